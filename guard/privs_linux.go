package guard

import (
	"errors"
	"fmt"
)

// RaiseCaps makes the named capabilities effective on every thread. Each must be in the
// permitted set already: the kernel raises only what the process was granted (by the
// runtime, --cap-add or securityContext.capabilities.add, or by a file capability). It
// returns an error wrapping ErrCgo in a binary that uses cgo, and the kernel's refusal
// otherwise.
func RaiseCaps(names ...string) error {
	want, err := parseCaps(names)
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	st := readState(newReader(""), nil)
	if err := st.usable(); err != nil {
		return fmt.Errorf("guard: reading the capabilities: %w", err)
	}
	_, err = raiseCaps(allThreads{}, st, want, true)
	return err
}

// DropPrivileges removes every capability but keep from the effective, permitted,
// inheritable and ambient sets of every thread, drops the others from the bounding set
// when the process holds CAP_SETPCAP, and sets no_new_privs. Call it before serving; keep
// nothing ("DropPrivileges()") when the service needs no capability. It returns an error
// wrapping ErrCgo in a binary that uses cgo.
func DropPrivileges(keep ...string) error {
	k, err := parseCaps(keep)
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	st := readState(newReader(""), nil)
	if err := st.usable(); err != nil {
		return fmt.Errorf("guard: reading the capabilities: %w", err)
	}
	_, err = dropPrivileges(allThreads{}, st, k)
	return err
}

// usable says whether the capability sets of every thread were read.
func (st *state) usable() error {
	if st.statusErr != nil {
		return st.statusErr
	}
	if err := st.status.fieldErr(threadFields, "/proc/self/status"); err != nil {
		return err
	}
	return st.threadsErr
}

// dropPrivileges applies DropPrivileges to the state st. It returns what it did.
func dropPrivileges(sc capSyscalls, st *state, keep capSet) ([]string, error) {
	if err := st.usable(); err != nil {
		return nil, fmt.Errorf("guard: cannot drop what cannot be read: %w", err)
	}
	var did []string
	if extra := st.bnd &^ keep; extra != 0 {
		if st.effAll.has(capSetPCap) {
			for c := 0; c < 64; c++ {
				if extra.has(c) {
					if err := sc.prctl(prCapbsetDrop, uintptr(c), 0); err != nil {
						return did, allThreadsErr("dropping "+capName(c)+" from the bounding set", err)
					}
				}
			}
			did = append(did, "dropped from the bounding set: "+extra.String())
		} else {
			did = append(did, "kept the bounding set: removing "+extra.String()+
				" from it needs CAP_SETPCAP; under no_new_privs no exec can gain them")
		}
	}
	if extra := st.amb &^ keep; extra != 0 {
		for c := 0; c < 64; c++ {
			if extra.has(c) {
				if err := sc.prctl(prCapAmbient, prCapAmbientLower, uintptr(c)); err != nil {
					return did, allThreadsErr("lowering the ambient "+capName(c), err)
				}
			}
		}
		did = append(did, "lowered ambient: "+extra.String())
	}
	if extra := (st.eff | st.prm | st.inh) &^ keep; extra != 0 {
		if err := sc.capset(st.effAll&keep, st.prmAll&keep, st.inhAll&keep); err != nil {
			return did, allThreadsErr("dropping "+extra.String(), err)
		}
		did = append(did, "dropped from the effective, permitted and inheritable sets: "+extra.String())
	}
	if st.noNewPrivs == 0 {
		if err := sc.prctl(prSetNoNewPrivs, 1, 0); err != nil {
			return did, allThreadsErr("setting no_new_privs", err)
		}
		did = append(did, "set no_new_privs")
	}
	return did, nil
}

// raiseCaps raises want ∩ permitted into the effective set of every thread. With strict,
// a capability of want that is not permitted is an error; otherwise it is skipped.
func raiseCaps(sc capSyscalls, st *state, want capSet, strict bool) ([]string, error) {
	if err := st.usable(); err != nil {
		return nil, fmt.Errorf("guard: cannot raise what cannot be read: %w", err)
	}
	if missing := want &^ st.prmAll; missing != 0 && strict {
		return nil, fmt.Errorf("guard: cannot raise %s: not in the permitted set, and the kernel raises only permitted "+
			"capabilities; grant it (--cap-add, securityContext.capabilities.add, or a file capability on the binary)", missing)
	}
	raise := want & st.prmAll &^ st.effAll
	if raise == 0 {
		return nil, nil
	}
	if err := sc.capset(st.effAll|raise, st.prmAll, st.inhAll); err != nil {
		if errors.Is(err, ErrCgo) {
			return nil, err
		}
		return nil, allThreadsErr("the kernel refused to raise "+raise.String()+" into the effective set", err)
	}
	return []string{"raised into the effective set: " + raise.String()}, nil
}
