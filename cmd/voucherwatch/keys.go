package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Keys are the secrets serve runs with: the PII key hashes identity numbers (and seeds the
// scheduled spot-check draws), the session key signs the web UI's cookies, the complaint key
// encrypts complainants' contact details (a key of their own, so that neither of the others
// opens them).
type Keys struct {
	PII       []byte
	Session   []byte
	Complaint []byte
}

// errMissingKeys explains why serve refuses to start; cmd prints it and exits 1.
var errMissingKeys = errors.New("refusing to start without secret keys")

// keys checks the configured secrets. In production both must be set: with the public
// development PII key, a masked identity number and anything derived from its keyed hash give
// the number back; a session key anyone can derive lets anyone sign a cookie. Only
// --dev-insecure-keys (which the demo sets) lets the engine fall back to the public PII key
// and a session key random to this process, so that no cookie outlives it.
func (c Config) keys() (Keys, error) {
	var missing []string
	if c.PIIKey == "" {
		missing = append(missing, "VW_PII_KEY (--pii-key)")
	}
	if c.SessionKey == "" {
		missing = append(missing, "VW_SESSION_KEY (--session-key)")
	}
	if c.ComplaintKey == "" {
		missing = append(missing, "VW_COMPLAINT_KEY (--complaint-key)")
	}
	if len(missing) > 0 && !c.DevInsecureKeys {
		return Keys{}, fmt.Errorf("%w: set %s, the same on every instance, or pass --dev-insecure-keys on a development machine", errMissingKeys, strings.Join(missing, " and "))
	}
	k := Keys{PII: []byte(c.PIIKey), Session: []byte(c.SessionKey), Complaint: []byte(c.ComplaintKey)}
	if len(k.PII) == 0 {
		k.PII = []byte(devPIIKey)
	}
	if len(k.Session) == 0 {
		k.Session = make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, k.Session); err != nil {
			return Keys{}, fmt.Errorf("session key: %w", err)
		}
	} else if len(k.Session) < 16 {
		return Keys{}, fmt.Errorf("VW_SESSION_KEY: want at least 16 bytes, got %d", len(k.Session))
	}
	// Under --dev-insecure-keys, contact details are sealed with a key that dies with the
	// process: a development machine never holds a key that opens them later.
	if len(k.Complaint) == 0 {
		k.Complaint = make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, k.Complaint); err != nil {
			return Keys{}, fmt.Errorf("complaint key: %w", err)
		}
	} else if len(k.Complaint) < 16 {
		return Keys{}, fmt.Errorf("VW_COMPLAINT_KEY: want at least 16 bytes, got %d", len(k.Complaint))
	}
	return k, nil
}

// devKeysBanner is printed to the terminal when the engine runs with development keys.
const devKeysBanner = `
************************************************************************
*  DEVELOPMENT KEYS: identity numbers are hashed with the PUBLIC        *
*  development key and sessions end with this process. Demo use only;  *
*  never load real records into this database.                         *
************************************************************************
`
