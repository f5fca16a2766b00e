package encode

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/redline-go/redline/internal/sbom"
)

// JSON writes s in redline's own form: the model as it is, indented, with
// no HTML escaping. It is the complete form; the standard formats are
// mappings of it.
func JSON(w io.Writer, s *sbom.SBOM) error {
	if s == nil {
		return fmt.Errorf("%w: nil", ErrInvalid)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encoding json: %w", err)
	}
	return nil
}
