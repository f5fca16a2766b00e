// Command hello is built by the imagecheck tests as a real Go binary.
package main

import "fmt"

func main() { fmt.Println("hello") }
