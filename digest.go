package voucherwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// InputsDigest is the hex SHA-256 of v's JSON: what a recorded computation (a spot-check
// draw, a register edition) keeps of its inputs, so that an auditor who re-runs it knows they
// run it on what it was made from. Pass the inputs in canonical order; v must be plain data
// (structs, strings, numbers), which always marshals.
func InputsDigest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("voucherwatch: inputs do not marshal: " + err.Error()) // plain data: cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
