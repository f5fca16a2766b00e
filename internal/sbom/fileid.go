package sbom

// FileID returns the ID of a file that a component owns, for a
// [Relationship] {From: owner, Type: [RelContains], To: FileID(owner, path)}.
//
// File IDs are scoped to their owner: dpkg lists shared directories (/usr,
// /usr/share/doc) under many packages, and each listing stays its own node.
// Encoders derive a package's file edges from [Component.Files]; an explicit
// relationship with this ID names the same edge and is not repeated.
func FileID(owner, path string) string {
	return owner + "#file:" + path
}
