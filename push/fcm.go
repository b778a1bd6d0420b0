package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// FCMBaseURL is Firebase Cloud Messaging's HTTP v1 endpoint.
const FCMBaseURL = "https://fcm.googleapis.com"

// fcmScope is the OAuth 2.0 scope of FCM's send API.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// FCM sends to Android and web devices through the FCM HTTP v1 API
// (POST {base}/v1/projects/{project}/messages:send), authorised by a
// service account's OAuth 2.0 tokens (golang.org/x/oauth2/google).
type FCM struct {
	client *http.Client
	url    string
	now    func() time.Time
}

// NewFCM reads a service account key (the JSON file the Firebase console
// downloads: Project settings → Service accounts) and returns an FCM
// provider for its project. baseURL "" is FCMBaseURL; hc, if set, carries
// the requests (tests point both at a local fake; the key's token_uri says
// where tokens are fetched).
func NewFCM(ctx context.Context, serviceAccountJSON []byte, baseURL string, hc *http.Client) (*FCM, error) {
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	creds, err := google.CredentialsFromJSONWithType(ctx, serviceAccountJSON, google.ServiceAccount, fcmScope)
	if err != nil {
		return nil, fmt.Errorf("FCM credentials: %w", err)
	}
	if creds.ProjectID == "" {
		return nil, fmt.Errorf("FCM credentials: the key names no project_id")
	}
	if baseURL == "" {
		baseURL = FCMBaseURL
	}
	client := oauth2.NewClient(ctx, creds.TokenSource)
	client.Timeout = 30 * time.Second
	return &FCM{client: client, url: strings.TrimRight(baseURL, "/") + "/v1/projects/" + creds.ProjectID + "/messages:send", now: time.Now}, nil
}

// fcmMessage is the v1 API's Message resource, the fields we use.
type fcmMessage struct {
	Token        string            `json:"token"`
	Notification fcmNotification   `json:"notification"`
	Data         map[string]string `json:"data"`
	Android      *fcmAndroid       `json:"android,omitempty"`
	Webpush      *fcmWebpush       `json:"webpush,omitempty"`
}

type fcmNotification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

type fcmAndroid struct {
	CollapseKey  string `json:"collapse_key"`
	Priority     string `json:"priority"`
	Notification struct {
		Tag string `json:"tag"`
	} `json:"notification"`
}

type fcmWebpush struct {
	Headers      map[string]string `json:"headers"`
	Notification map[string]string `json:"notification"`
	FCMOptions   *struct {
		Link string `json:"link"`
	} `json:"fcm_options,omitempty"`
}

// fcmError is the v1 API's error body (google.rpc.Status with FcmError details).
type fcmError struct {
	Error struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Details []struct {
			Type      string `json:"@type"`
			ErrorCode string `json:"errorCode"`
		} `json:"details"`
	} `json:"error"`
}

// Send posts m; see Provider.
func (f *FCM) Send(ctx context.Context, m Message) error {
	msg := fcmMessage{
		Token:        m.Token,
		Notification: fcmNotification{Title: m.Title, Body: m.Body},
		Data:         map[string]string{"notificationId": m.NotificationID, "kind": string(m.Kind)},
	}
	if m.DeepLink != "" {
		msg.Data["deepLink"] = m.DeepLink
	}
	switch m.Platform {
	case PlatformWeb:
		msg.Webpush = &fcmWebpush{Headers: map[string]string{"Topic": m.NotificationID}, Notification: map[string]string{"tag": m.NotificationID}}
		if strings.HasPrefix(m.DeepLink, "https://") { // FCM takes only HTTPS links for the web
			msg.Webpush.FCMOptions = &struct {
				Link string `json:"link"`
			}{m.DeepLink}
		}
	default:
		msg.Android = &fcmAndroid{CollapseKey: m.NotificationID, Priority: "high"}
		msg.Android.Notification.Tag = m.NotificationID
	}
	body, err := json.Marshal(map[string]any{"message": msg})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }() // read (bounded) below; nothing to lose
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode == http.StatusOK {
		return nil
	}
	var e fcmError
	_ = json.Unmarshal(raw, &e)
	reason := e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			reason = d.ErrorCode
		}
	}
	se := &SendError{Status: res.StatusCode, Reason: reason}
	switch {
	// The token is gone (UNREGISTERED, 404), malformed (INVALID_ARGUMENT,
	// 400: our own payload is well-formed) or another project's
	// (SENDER_ID_MISMATCH, 403): Firebase's guidance is to delete it.
	case reason == "UNREGISTERED" || res.StatusCode == http.StatusNotFound,
		reason == "INVALID_ARGUMENT", reason == "SENDER_ID_MISMATCH":
		se.Unregistered = true
	case retryableStatus(res.StatusCode):
		se.Retryable = true
		se.RetryAfter = retryAfter(res.Header.Get("Retry-After"), f.now())
	}
	return se
}
