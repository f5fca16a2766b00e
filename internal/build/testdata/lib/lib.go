// Package lib is a library: redline build must refuse it.
package lib

// Answer is here so the package compiles.
const Answer = 42
