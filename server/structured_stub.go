package server

import (
	"encoding/json"
	"net/http"

	"sieve/engine"
)

// constrainedDecodingAvailable reports whether jsonSchemaConstraint can
// constrain generation; tests of required and named tool choices skip
// without it.
const constrainedDecodingAvailable = false

// jsonSchemaConstraint would install a constraint that makes the output
// one JSON value matching schema; this build has no constrained decoding.
func (s *Server) jsonSchemaConstraint(schema json.RawMessage) (func(*engine.Request), *apiError) {
	return nil, &apiError{status: http.StatusBadRequest, kind: typeInvalidRequest, param: "tool_choice",
		message: "constrained decoding is not available"}
}
