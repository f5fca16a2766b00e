package image

import (
	"context"
	"errors"
)

// Placeholders until registry.go and engine.go land; a helper replaces this file.

var errPending = errors.New("source not built yet")

func openRegistry(ctx context.Context, ref string, o *Options) (*Image, error) { return nil, errPending }
func openEngine(ctx context.Context, eng Scheme, name string, o *Options) (*Image, error) {
	return nil, errPending
}
func engineHas(ctx context.Context, eng Scheme, name string, o *Options) (bool, error) {
	return false, errPending
}
