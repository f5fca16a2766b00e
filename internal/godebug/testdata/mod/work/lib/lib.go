// Package lib is a library; its //go:debug line is misplaced and ignored.

//go:debug panicnil=1

package lib

// Hello does nothing.
func Hello() {}
