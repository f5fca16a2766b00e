module example.com/app

go 1.21

godebug http2client=0
