// Command broken does not compile: redline build must show the compiler's
// error.
package main

func main() {
	notDefined()
}
