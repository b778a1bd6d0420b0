// Package pushtest runs local fakes of Firebase Cloud Messaging (HTTP v1,
// with its OAuth 2.0 token endpoint) and APNs (HTTP/2 over TLS) that follow
// their documented request and error formats, for the tests of package push
// and the server. Imported by _test.go files only.
package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Reply is how a fake answers one push: 200 unless Status says otherwise.
// Reason is the provider's error code (FCM: UNREGISTERED,
// INVALID_ARGUMENT, UNAVAILABLE, QUOTA_EXCEEDED; APNs: Unregistered,
// BadDeviceToken, TooManyRequests, ServiceUnavailable); RetryAfter is sent
// as the Retry-After header.
type Reply struct {
	Status     int
	Reason     string
	RetryAfter string
}

// Push is one request a fake received.
type Push struct {
	Token      string
	Title      string
	Body       string
	CollapseID string // FCM: android.notification.tag or webpush tag; APNs: apns-collapse-id
	Data       map[string]string
	Status     int // what the fake answered
}

// fake is what both fakes share: the script and the record.
type fake struct {
	mu       sync.Mutex
	answer   func(token string, n int) Reply
	received []Push
	counts   map[string]int
}

// Answer scripts the replies: answer gets the token and how many pushes
// to it came before this one (0 for the first).
func (f *fake) Answer(answer func(token string, n int) Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

// Received returns every push received so far, answered or refused.
func (f *fake) Received() []Push {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Push(nil), f.received...)
}

// Accepted returns the pushes answered 200.
func (f *fake) Accepted() []Push {
	var out []Push
	for _, p := range f.Received() {
		if p.Status == http.StatusOK {
			out = append(out, p)
		}
	}
	return out
}

func (f *fake) record(p Push) Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	r := Reply{Status: http.StatusOK}
	if f.answer != nil {
		r = f.answer(p.Token, f.counts[p.Token])
		if r.Status == 0 {
			r.Status = http.StatusOK
		}
	}
	f.counts[p.Token]++
	p.Status = r.Status
	f.received = append(f.received, p)
	return r
}

// FCM is a fake of the FCM HTTP v1 API and of Google's OAuth 2.0 token endpoint.
type FCM struct {
	fake
	Server *httptest.Server
	// CredentialsFile is a service account key whose token_uri is the fake.
	CredentialsFile string
	Project         string
}

const fcmAccessToken = "fake-fcm-access-token"

// NewFCM starts a fake FCM on 127.0.0.1, closed when t ends.
func NewFCM(t testing.TB) *FCM {
	t.Helper()
	f := &FCM{Project: "regulars-test"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		// RFC 7523 JWT bearer grant, as a service account asks for tokens.
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || strings.Count(r.Form.Get("assertion"), ".") != 2 {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"` + fcmAccessToken + `","token_type":"Bearer","expires_in":3600}`))
	})
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		if r.Header.Get("Authorization") != "Bearer "+fcmAccessToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(fcmError(http.StatusUnauthorized, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")))
			return
		}
		var body struct {
			Message struct {
				Token        string `json:"token"`
				Notification struct{ Title, Body string }
				Data         map[string]string `json:"data"`
				Android      *struct {
					Notification struct{ Tag string } `json:"notification"`
				} `json:"android"`
				Webpush *struct {
					Notification map[string]string `json:"notification"`
				} `json:"webpush"`
			} `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Message.Token == "" || r.PathValue("project") != f.Project {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(fcmError(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT")))
			return
		}
		m := body.Message
		p := Push{Token: m.Token, Title: m.Notification.Title, Body: m.Notification.Body, Data: m.Data}
		if m.Android != nil {
			p.CollapseID = m.Android.Notification.Tag
		} else if m.Webpush != nil {
			p.CollapseID = m.Webpush.Notification["tag"]
		}
		reply := f.record(p)
		if reply.Status == http.StatusOK {
			_, _ = fmt.Fprintf(w, `{"name":"projects/%s/messages/0:%d"}`, f.Project, len(f.Received())) // the client sees a short answer
			return
		}
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		w.WriteHeader(reply.Status)
		_, _ = w.Write([]byte(fcmError(reply.Status, fcmStatus(reply.Status), reply.Reason)))
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Server.Close)
	f.CredentialsFile = WriteServiceAccount(t, f.Project, f.Server.URL+"/token")
	return f
}

// fcmError is the v1 API's error body: a google.rpc.Status whose details
// carry the FcmError code.
func fcmError(code int, status, errorCode string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": "fake FCM: " + errorCode, "status": status,
		"details": []any{map[string]any{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": errorCode}},
	}})
	return string(b)
}

func fcmStatus(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	}
	return "INTERNAL"
}

// WriteServiceAccount writes a service account key (a fresh RSA key) for
// project whose token_uri is tokenURL; its path.
func WriteServiceAccount(t testing.TB, project, tokenURL string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": "fake-key-id",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@" + project + ".iam.gserviceaccount.com", "client_id": "1", "token_uri": tokenURL,
	})
	path := filepath.Join(t.TempDir(), "service-account.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// APNs is a fake of Apple's push service: HTTP/2 over TLS, token auth.
type APNs struct {
	fake
	Server *httptest.Server
	// KeyFile is a .p8 signing key (a fresh P-256 key) for the provider.
	KeyFile string
	Topic   string
}

// NewAPNs starts a fake APNs on 127.0.0.1 (HTTP/2 with TLS), closed when
// t ends. Server.Client() trusts its certificate.
func NewAPNs(t testing.TB) *APNs {
	t.Helper()
	a := &APNs{Topic: "com.example.regulars"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /3/device/{token}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("apns-id", "00000000-0000-0000-0000-000000000001")
		refuse := func(status int, reason string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, `{"reason":%q}`, reason)
		}
		switch {
		case r.ProtoMajor != 2:
			refuse(http.StatusMethodNotAllowed, "MethodNotAllowed") // APNs speaks HTTP/2 only
			return
		case !strings.HasPrefix(r.Header.Get("authorization"), "bearer ") || strings.Count(r.Header.Get("authorization"), ".") != 2:
			refuse(http.StatusForbidden, "MissingProviderToken")
			return
		case r.Header.Get("apns-topic") != a.Topic:
			refuse(http.StatusBadRequest, "BadTopic")
			return
		}
		var body struct {
			APS struct {
				Alert struct{ Title, Body string } `json:"alert"`
			} `json:"aps"`
			NotificationID string `json:"notificationId"`
			Kind           string `json:"kind"`
			DeepLink       string `json:"deepLink"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			refuse(http.StatusBadRequest, "PayloadEmpty")
			return
		}
		reply := a.record(Push{Token: r.PathValue("token"), Title: body.APS.Alert.Title, Body: body.APS.Alert.Body,
			CollapseID: r.Header.Get("apns-collapse-id"), Data: map[string]string{"notificationId": body.NotificationID, "kind": body.Kind, "deepLink": body.DeepLink}})
		if reply.Status == http.StatusOK {
			return
		}
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		if reply.Status == http.StatusGone {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(reply.Status)
			_, _ = fmt.Fprintf(w, `{"reason":%q,"timestamp":1767225600000}`, reply.Reason)
			return
		}
		refuse(reply.Status, reply.Reason)
	})
	a.Server = httptest.NewUnstartedServer(mux)
	a.Server.EnableHTTP2 = true
	a.Server.StartTLS()
	t.Cleanup(a.Server.Close)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	a.KeyFile = filepath.Join(t.TempDir(), "AuthKey_TEST123456.p8")
	if err := os.WriteFile(a.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}
