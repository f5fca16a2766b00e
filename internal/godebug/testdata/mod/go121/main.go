// Command go121 links crypto/tls under a go 1.21 line.
package main

import (
	"crypto/tls"
	"fmt"
)

func main() { fmt.Println(tls.VersionName(tls.VersionTLS13)) }
