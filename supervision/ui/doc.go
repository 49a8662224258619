// Package ui is the web UI supervisors work in: a Handler built from Deps (the domain's
// stores, package workflow's operations, the session settings) with one method per page, in
// files named for the resources they show (alerts.go, inbox.go, claims.go, enterprises.go,
// complaints.go, rounds.go, spotchecks.go, register.go, users.go, login.go, ...); the
// sessions, their CSRF tokens and the sign-in throttles (session.go, logout.go,
// throttle.go); the page templates and static files under web/, embedded in the binary and
// every one parsed when the Handler is built, so that a missing template fails at start; how
// a page is written with the headers every page has. Package supervision mounts each page on
// its route (docs/ui.md lists them); Page puts a page behind a session.
package ui
