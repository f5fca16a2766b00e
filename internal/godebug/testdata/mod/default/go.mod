module example.com/default

go 1.26

godebug default=go1.21
