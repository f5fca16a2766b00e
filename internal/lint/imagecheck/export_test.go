package imagecheck_test

import "github.com/redline-go/redline/internal/sbom"

type sbomComponent = sbom.Component
