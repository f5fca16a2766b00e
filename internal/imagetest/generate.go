package imagetest

//go:generate go run ./gen ../../testdata/images
