// Command go116 links crypto/tls under a go 1.16 line.
package main

import (
	"crypto/tls"
	"fmt"
)

func main() { fmt.Println(tls.VersionName(tls.VersionTLS13)) }
