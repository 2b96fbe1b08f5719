package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// CORS says which cross-origin browser requests the server allows, as
// vLLM's --allowed-origins, --allowed-methods, --allowed-headers and
// --allow-credentials do. The zero value allows none: the server binds
// 127.0.0.1 by default, and a browser page from any site could otherwise
// read its answers through the visitor's browser.
type CORS struct {
	// Origins are the allowed origins ("https://app.example"), or "*"
	// for any; empty allows no cross-origin request.
	Origins []string
	// Methods and Headers are the allowed request methods and headers;
	// "*" allows any.
	Methods, Headers []string
	// Credentials lets the browser send cookies and Authorization.
	Credentials bool
}

// DefaultCORS is the CORS setting of "sieve serve" without CORS flags:
// no origin, and vLLM's wildcards for methods and headers once an origin
// is allowed.
func DefaultCORS() CORS {
	return CORS{Methods: []string{"*"}, Headers: []string{"*"}}
}

// corsMethods answers a preflight that asks for methods "*".
const corsMethods = "GET, HEAD, POST, OPTIONS"

// allowsOrigin reports whether origin may make cross-origin requests.
func (c *CORS) allowsOrigin(origin string) bool {
	return origin != "" && (slices.Contains(c.Origins, "*") || slices.Contains(c.Origins, origin))
}

// allowOrigin is the Access-Control-Allow-Origin answered to origin: "*"
// for any origin, unless credentials are allowed, which a wildcard cannot
// carry; then the origin itself.
func (c *CORS) allowOrigin(origin string) string {
	if slices.Contains(c.Origins, "*") && !c.Credentials {
		return "*"
	}
	return origin
}

// allowsMethod reports whether a preflight's requested method is allowed.
func (c *CORS) allowsMethod(m string) bool {
	return slices.Contains(c.Methods, "*") || slices.ContainsFunc(c.Methods, func(a string) bool { return strings.EqualFold(a, m) })
}

// allowsHeaders reports whether every header a preflight asks for is
// allowed (the CORS-safelisted ones always are).
func (c *CORS) allowsHeaders(list string) bool {
	if slices.Contains(c.Headers, "*") {
		return true
	}
	for h := range strings.SplitSeq(list, ",") {
		h = strings.TrimSpace(h)
		if h == "" || slices.ContainsFunc(c.Headers, func(a string) bool { return strings.EqualFold(a, h) }) {
			continue
		}
		switch strings.ToLower(h) {
		case "accept", "accept-language", "content-language", "content-type":
			continue
		}
		return false
	}
	return true
}

// cors answers OPTIONS requests (a browser's preflight: 204 with the
// Access-Control headers when the origin, method and headers are allowed,
// else 403; any other OPTIONS: 204 with Allow) and marks the answers to
// allowed origins. It runs before authentication, since browsers send
// preflights without credentials.
func (s *Server) cors(next http.Handler) http.Handler {
	c := s.cfg.CORS
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if len(c.Origins) > 0 {
			h.Add("Vary", "Origin")
		}
		want := r.Header.Get("Access-Control-Request-Method")
		if r.Method != http.MethodOptions {
			if c.allowsOrigin(origin) {
				c.mark(h, origin)
				h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
			}
			next.ServeHTTP(w, r)
			return
		}
		if origin == "" || want == "" {
			h.Set("Allow", corsMethods)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		asked := r.Header.Get("Access-Control-Request-Headers")
		if !c.allowsOrigin(origin) || !c.allowsMethod(want) || !c.allowsHeaders(asked) {
			writeError(w, &apiError{status: http.StatusForbidden, kind: typeInvalidRequest, code: "cors_forbidden",
				message: fmt.Sprintf("cross-origin %s from %q is not allowed (see --allowed-origins, --allowed-methods and --allowed-headers)", want, origin)})
			return
		}
		c.mark(h, origin)
		methods := strings.Join(c.Methods, ", ")
		if slices.Contains(c.Methods, "*") {
			methods = corsMethods
		}
		h.Set("Access-Control-Allow-Methods", methods)
		if asked != "" {
			headers := strings.Join(c.Headers, ", ")
			if slices.Contains(c.Headers, "*") {
				headers = asked // echoed, which works with credentials too
			}
			h.Set("Access-Control-Allow-Headers", headers)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// mark sets the headers that let the browser hand an answer to origin.
func (c *CORS) mark(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", c.allowOrigin(origin))
	if c.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// listFlag is a flag holding a list, given as a JSON array (vLLM's form:
// '["https://a.example"]') or comma-separated.
type listFlag struct{ list *[]string }

// String implements flag.Value.
func (f listFlag) String() string {
	if f.list == nil {
		return ""
	}
	b, _ := json.Marshal(*f.list)
	return string(b)
}

// Set implements flag.Value.
func (f listFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") {
		var list []string
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return fmt.Errorf("not a JSON array of strings: %w", err)
		}
		*f.list = list
		return nil
	}
	*f.list = nil
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*f.list = append(*f.list, item)
		}
	}
	return nil
}
