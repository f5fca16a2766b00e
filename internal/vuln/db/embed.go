package db

import (
	_ "embed"
)

// The embedded snapshot of the Go vulnerability database. Regenerate it,
// after changing the pinned version here, with
//
//	go generate ./internal/vuln/db
//
// TestSnapshotReproducible (REDLINE_E2E=1) checks that the committed files
// are what the generator makes of that version.
//
//go:generate go run ./internal/gen -version v0.0.0-20261105234957-e22db6528018 -out .

//go:embed vulndb.zst
var snapshotData []byte

//go:embed vulndb.json
var snapshotMeta []byte
