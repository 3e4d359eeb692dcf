// Package httpx holds the small JSON helpers every HTTP handler of birjob
// shares: one error shape ({"error": "..."}), bounded body decoding, the
// {id} of a path and the merge of a PUT body over a stored value.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// MaxBody is the largest JSON request body accepted.
const MaxBody = 1 << 20

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write json", "err", err)
	}
}

// Error writes {"error": msg} with the given status. Use 4xx with a message a
// person can act on; 5xx only for faults of the server.
func Error(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// Errorf is Error with formatting.
func Errorf(w http.ResponseWriter, status int, format string, args ...any) {
	Error(w, status, fmt.Sprintf(format, args...))
}

// ServerError logs err and answers 500 without leaking its text.
func ServerError(w http.ResponseWriter, r *http.Request, err error) {
	slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	Error(w, http.StatusInternalServerError, "internal error; it has been logged")
}

// DecodeJSON reads a JSON object from r's body into v. It answers the client
// itself (400 or 413, with the reason) and returns false when the body is not
// acceptable.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	// The Content-Type is not insisted on (curl -d sends a form type):
	// cross-site forgery is refused by CrossOriginProtection, not by it.
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
		Error(w, http.StatusUnsupportedMediaType, "send the body as application/json")
		return false
	}
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			Errorf(w, http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", MaxBody)
		case errors.Is(err, io.EOF):
			Error(w, http.StatusBadRequest, "request body is empty; send a JSON object")
		case errors.As(err, &se):
			Errorf(w, http.StatusBadRequest, "request body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te):
			Errorf(w, http.StatusBadRequest, "field %q must be a %s", te.Field, te.Type)
		default:
			Errorf(w, http.StatusBadRequest, "request body is not valid JSON: %v", err)
		}
		return false
	}
	if dec.More() {
		Error(w, http.StatusBadRequest, "request body has data after the JSON object")
		return false
	}
	return true
}

// PathID returns the request's {id} path value, a positive integer. When it
// is not one, PathID answers and returns false: 400 `"x" is not an id`, or,
// when what names the resource, 404 `no <what> with id "x"` (for an API
// that answers a malformed id like an unknown one).
func PathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err == nil && id > 0 {
		return id, true
	}
	if what != "" {
		Errorf(w, http.StatusNotFound, "no %s with id %q", what, v)
	} else {
		Errorf(w, http.StatusBadRequest, "%q is not an id", v)
	}
	return 0, false
}

// MergeJSON decodes the JSON body of r over v, so that the fields the body
// leaves out keep their values (a PUT or PATCH that changes only what it
// carries). json.Unmarshal merges an object into an existing map; a field
// that the body must replace as a whole is reset by reset, which, when not
// nil, is called before decoding with a test of the body's top-level keys.
// MergeJSON answers the client itself (400 or 413) and returns false when
// the body is not acceptable.
func MergeJSON(w http.ResponseWriter, r *http.Request, v any, reset func(has func(key string) bool)) bool {
	var raw json.RawMessage
	if !DecodeJSON(w, r, &raw) {
		return false
	}
	if reset != nil {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			Errorf(w, http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
			return false
		}
		reset(func(key string) bool { _, ok := keys[key]; return ok })
	}
	if err := json.Unmarshal(raw, v); err != nil {
		Errorf(w, http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
		return false
	}
	return true
}
