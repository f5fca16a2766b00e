module example.com/pins

go 1.24

// Kept on purpose: old peers.
godebug (
	rsa1024min=0
	http2client=0
)
