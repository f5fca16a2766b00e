// Command app is built in a workspace: go.work's go and godebug lines count,
// go.mod's godebug line does not.
package main

import "example.com/lib"

func main() { lib.Hello() }
