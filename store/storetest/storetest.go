// Package storetest gives tests a real ClickHouse: a fresh database on the shared server, or a
// private server of their own that they may stop and restart.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Addr is the shared test server's native address: VW_TEST_CLICKHOUSE or 127.0.0.1:9000.
func Addr() string {
	if a := os.Getenv("VW_TEST_CLICKHOUSE"); a != "" {
		return a
	}
	return "127.0.0.1:9000"
}

// Require skips the test when no ClickHouse answers, except in CI (CI set), where it fails:
// CI must never pass by skipping the storage tests.
func Require(t testing.TB) {
	t.Helper()
	if err := ping(Addr()); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("VW_TEST_CLICKHOUSE") != "" {
			t.Fatalf("ClickHouse at %s: %v", Addr(), err)
		}
		t.Skipf("no ClickHouse at %s (%v); run `make test`", Addr(), err)
	}
}

func ping(addr string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, DialTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return conn.Ping(ctx)
}

// Database returns the DSN of a new, empty database name on the shared server; the engine
// creates it. It is dropped when the test ends (kept when VW_TEST_KEEP is set, for a look).
func Database(t testing.TB) string {
	t.Helper()
	Require(t)
	name := "vwtest_" + randomHex(6)
	t.Cleanup(func() {
		if os.Getenv("VW_TEST_KEEP") != "" {
			t.Logf("kept database %s", name)
		}
		Drop(name)
	})
	return fmt.Sprintf("clickhouse://%s/%s", Addr(), name)
}

// Drop drops a test database on the shared server, unless VW_TEST_KEEP is set.
// It uses the driver, so no clickhouse-client is needed; a failure is ignored (the database is
// a test's leftover, dropped by hand at worst).
func Drop(name string) {
	if os.Getenv("VW_TEST_KEEP") != "" {
		return
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{Addr()}, DialTimeout: 2 * time.Second})
	if err != nil {
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+strings.ReplaceAll(name, "`", "")+"`")
}

// RandomSuffix is a short random hex string for test object names.
func RandomSuffix() string { return randomHex(6) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Server is a private ClickHouse server for one test: its own ports and data directory, so the
// test can stop and restart it without disturbing tests that use the shared server.
type Server struct {
	Addr string
	dir  string
	args []string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartServer starts a private server; it is stopped when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	Require(t)
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		t.Fatalf("clickhouse-server not installed: %v", err)
	}
	dir := t.TempDir()
	tcp, http, inter := freePort(t), freePort(t), freePort(t)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp)), dir: dir, t: t}
	s.args = []string{bin, "--config-file=/etc/clickhouse-server/config.xml", "--",
		"--tcp_port=" + strconv.Itoa(tcp), "--http_port=" + strconv.Itoa(http),
		"--interserver_http_port=" + strconv.Itoa(inter),
		"--path=" + filepath.Join(dir, "data") + "/", "--tmp_path=" + filepath.Join(dir, "tmp") + "/",
		"--user_files_path=" + filepath.Join(dir, "user_files") + "/",
		"--format_schema_path=" + filepath.Join(dir, "format_schemas") + "/",
		"--logger.log=" + filepath.Join(dir, "server.log"), "--logger.errorlog=" + filepath.Join(dir, "error.log"),
		"--logger.console=0",
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its ports and data, and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start private clickhouse-server: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ping(s.Addr) != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
			s.t.Fatalf("private clickhouse-server on %s did not answer in 30 s; error log:\n%s", s.Addr, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit, as an outage would.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
}

// DSN is the DSN of database db on the private server.
func (s *Server) DSN(db string) string { return fmt.Sprintf("clickhouse://%s/%s", s.Addr, db) }

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
