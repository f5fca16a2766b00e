// Command hello is a tiny program for the Go binary cataloger's tests.
package main

import (
	"fmt"

	"example.com/greet"
	"github.com/google/go-cmp/cmp"
)

func main() {
	fmt.Println(greet.Hello(), cmp.Equal(1, 1))
}
