// Package mail sends the account emails (password reset, email
// verification): over SMTP when SMTP_URL is set, or into the log in
// development.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	Body    string
}

// SMTP sends messages through an SMTP server (github.com/wneessen/go-mail).
type SMTP struct {
	host string
	from string
	opts []gomail.Option
}

// NewSMTP reads an SMTP URL: smtp://user:pass@host:587 (STARTTLS when the
// server offers it, required when ?tls=required), smtps://user:pass@host:465
// (implicit TLS). Without a user the server is used without authentication.
// from is the From address.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not a URL (smtp://user:pass@host:587)")
	}
	if u.Hostname() == "" {
		return nil, errors.New("names no host (smtp://user:pass@host:587)")
	}
	if from == "" {
		return nil, errors.New("needs a From address (SMTP_FROM)")
	}
	opts := []gomail.Option{gomail.WithTimeout(15 * time.Second)}
	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("port %q is not a port number", p)
		}
	}
	switch u.Scheme {
	case "smtp":
		policy := gomail.TLSOpportunistic
		if u.Query().Get("tls") == "required" {
			policy = gomail.TLSMandatory
		}
		opts = append(opts, gomail.WithTLSPolicy(policy))
		if port == 0 {
			port = 587
		}
	case "smtps":
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = 465
		}
	default:
		return nil, fmt.Errorf("scheme %q: want smtp or smtps", u.Scheme)
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	m := gomail.NewMsg()
	if err := m.From(from); err != nil {
		return nil, fmt.Errorf("From address %q: %v", from, err)
	}
	return &SMTP{host: u.Hostname(), from: from, opts: opts}, nil
}

// Send delivers one message; a new connection per message, as account
// emails are few.
func (s *SMTP) Send(ctx context.Context, msg Message) error {
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return err
	}
	if err := m.To(msg.To); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	m.Subject(msg.Subject)
	m.SetBodyString(gomail.TypeTextPlain, msg.Body)
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, m)
}

// Log writes messages into the log instead of sending them: development
// without SMTP_URL. With a File, every message is also appended to it, one
// line each, so a developer (and the README's examples) can read the link
// it carries.
type Log struct {
	// File, if not empty, gets each message appended as a line.
	File string
	// Bodies says whether the log line shows the body (with its links and
	// tokens): development only.
	Bodies bool

	mu sync.Mutex
}

// Send logs msg.
func (l *Log) Send(ctx context.Context, msg Message) error {
	if !l.Bodies {
		slog.InfoContext(ctx, "email not sent (SMTP_URL is not set)", "to", msg.To, "subject", msg.Subject)
		return nil
	}
	slog.InfoContext(ctx, "email (logged, not sent: SMTP_URL is not set)", "to", msg.To, "subject", msg.Subject, "body", msg.Body)
	if l.File == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.File, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s to=%s subject=%q body=%q\n", time.Now().UTC().Format(time.RFC3339), msg.To, msg.Subject, msg.Body)
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
