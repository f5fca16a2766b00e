// Command shop is a fixture for redline lint's Go module rules.
package main

import (
	"fmt"

	"github.com/google/uuid"
	yaml2 "gopkg.in/yaml.v2"
	"gopkg.in/yaml.v3"
)

func main() {
	fmt.Println(uuid.NewString(), yaml2.MapSlice{}, yaml.Node{})
}
