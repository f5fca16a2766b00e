// Package greet is a local module that hello replaces in.
package greet

// Hello greets.
func Hello() string { return "hello" }
