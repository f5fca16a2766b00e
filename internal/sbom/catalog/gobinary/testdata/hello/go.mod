module example.com/hello

go 1.26

require (
	example.com/greet v0.0.0
	github.com/google/go-cmp v0.7.0
)

replace example.com/greet => ./greet
