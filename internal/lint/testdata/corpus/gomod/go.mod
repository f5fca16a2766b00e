module example.com/shop

go 1.26

toolchain go1.26.8

require (
	github.com/google/uuid v1.6.0
	gopkg.in/yaml.v2 v2.4.0
	gopkg.in/yaml.v3 v3.0.1
	github.com/pkg/errors v0.9.1
)
