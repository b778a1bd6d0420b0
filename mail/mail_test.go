package mail

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fakeSMTP is a local SMTP server (github.com/emersion/go-smtp) that
// requires AUTH PLAIN as user/secret and keeps what it receives.
type fakeSMTP struct {
	mu       sync.Mutex
	received []received
}

type received struct {
	user, from string
	to         []string
	data       string
}

type fakeSession struct {
	srv  *fakeSMTP
	user string
	msg  received
}

func (f *fakeSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &fakeSession{srv: f}, nil }

func (s *fakeSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *fakeSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "user" || pass != "secret" {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data, s.msg.user = string(b), s.user
	s.srv.mu.Lock()
	s.srv.received = append(s.srv.received, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *fakeSession) Reset()        { s.msg = received{} }
func (s *fakeSession) Logout() error { return nil }

// startFakeSMTP serves on 127.0.0.1 until the test ends; it returns the address.
func startFakeSMTP(t *testing.T) (*fakeSMTP, string) {
	t.Helper()
	f := &fakeSMTP{}
	srv := smtp.NewServer(f)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Error(err)
		}
	})
	return f, ln.Addr().String()
}

// An email goes through SMTP with the account's credentials: from, to,
// subject and body arrive as sent.
func TestSMTPDelivers(t *testing.T) {
	srv, addr := startFakeSMTP(t)
	s, err := NewSMTP("smtp://user:secret@"+addr, "Velo Club <no-reply@velo.example>")
	if err != nil {
		t.Fatal(err)
	}
	msg := Message{To: "ann@example.com", Subject: "Reset your Velo Club password", Body: "Open veloclub://reset-password?token=abc123 within the hour."}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.received) != 1 {
		t.Fatalf("received %d messages", len(srv.received))
	}
	got := srv.received[0]
	if got.user != "user" || got.from != "no-reply@velo.example" || len(got.to) != 1 || got.to[0] != "ann@example.com" {
		t.Fatalf("envelope: %+v", got)
	}
	data := strings.ReplaceAll(got.data, "=\r\n", "") // quoted-printable soft breaks
	for _, want := range []string{"Subject: Reset your Velo Club password", "To: <ann@example.com>", "token=3Dabc123"} {
		if !strings.Contains(data, want) && !strings.Contains(data, strings.ReplaceAll(want, "=3D", "=")) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
}

// Wrong credentials and a server that is not there are errors, not silence.
func TestSMTPFailures(t *testing.T) {
	srv, addr := startFakeSMTP(t)
	s, err := NewSMTP("smtp://user:wrong@"+addr, "no-reply@velo.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "ann@example.com", Subject: "x", Body: "y"}); err == nil {
		t.Fatal("sent with wrong credentials")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = NewSMTP("smtp://"+closed, "no-reply@velo.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "ann@example.com", Subject: "x", Body: "y"}); err == nil {
		t.Fatal("sent to a closed port")
	}
	if len(srv.received) != 0 {
		t.Fatalf("received %d", len(srv.received))
	}
}

func TestNewSMTPRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"http://host", "smtp://", "smtp://host:99999", "::"} {
		if _, err := NewSMTP(u, "a@b.example"); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := NewSMTP("smtp://host", ""); err == nil {
		t.Error("no From accepted")
	}
}

// In development the log keeps each email, link included, one per line.
func TestLogAppendsToFile(t *testing.T) {
	file := t.TempDir() + "/sent-mail.log"
	l := &Log{File: file, Bodies: true}
	for _, tok := range []string{"first", "second"} {
		if err := l.Send(context.Background(), Message{To: "ann@example.com", Subject: "Reset", Body: "regulars://reset-password?token=" + tok}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := readFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "token=second") || !strings.Contains(lines[0], "to=ann@example.com") {
		t.Fatalf("log file:\n%s", b)
	}
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }
