package main

import (
	"fmt"
	"net/url"
	"strconv"
)

// withPool sets the size of the driver's connection pool in a ClickHouse DSN: at most n
// connections open, as many idle.
func withPool(dsn string, n int) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("--api-connections: want at least 1, got %d", n)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("--clickhouse: %s", redactDSN(dsn))
	}
	q := u.Query()
	q.Set("max_open_conns", strconv.Itoa(n))
	q.Set("max_idle_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String(), nil
}
