// Command pins sets GODEBUG values on purpose.

//go:debug x509negativeserial=1
//go:debug execerrdot=0

package main

import (
	"crypto/tls"
	"fmt"
)

func main() { fmt.Println(tls.VersionName(tls.VersionTLS13)) }
