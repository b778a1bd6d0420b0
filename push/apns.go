package push

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/payload"
	"github.com/sideshow/apns2/token"
)

// APNsConfig is token-based authentication with Apple's push service: a
// .p8 signing key from the developer account (Certificates, Identifiers &
// Profiles → Keys) with its key id, the team id and the app's bundle id.
type APNsConfig struct {
	KeyFile string // path of the .p8 file
	KeyID   string
	TeamID  string
	Topic   string // the app's bundle id
	// Host is apns2.HostProduction unless set (apns2.HostDevelopment for
	// development builds, or a local fake).
	Host string
}

// APNs sends to iOS devices over HTTP/2 with github.com/sideshow/apns2.
type APNs struct {
	client *apns2.Client
	topic  string
}

// NewAPNs loads the signing key and returns the provider; hc, if set,
// replaces the HTTP/2 client (tests trust a local fake's certificate).
func NewAPNs(cfg APNsConfig, hc *http.Client) (*APNs, error) {
	key, err := token.AuthKeyFromFile(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("APNs key %s: %w", cfg.KeyFile, err)
	}
	if cfg.KeyID == "" || cfg.TeamID == "" || cfg.Topic == "" {
		return nil, fmt.Errorf("APNs: the key id, team id and topic (bundle id) are all required")
	}
	c := apns2.NewTokenClient(&token.Token{AuthKey: key, KeyID: cfg.KeyID, TeamID: cfg.TeamID}).Production()
	if cfg.Host != "" {
		c.Host = cfg.Host
	}
	if hc != nil {
		c.HTTPClient = hc
	}
	return &APNs{client: c, topic: cfg.Topic}, nil
}

// Send pushes m as an alert; see Provider.
func (a *APNs) Send(ctx context.Context, m Message) error {
	p := payload.NewPayload().AlertTitle(m.Title).AlertBody(m.Body).Sound("default").
		Custom("notificationId", m.NotificationID).Custom("kind", string(m.Kind))
	if m.DeepLink != "" {
		p.Custom("deepLink", m.DeepLink)
	}
	res, err := a.client.PushWithContext(ctx, &apns2.Notification{
		DeviceToken: m.Token, Topic: a.topic, CollapseID: m.NotificationID, Payload: p,
		Priority: apns2.PriorityHigh, PushType: apns2.PushTypeAlert,
	})
	if err != nil {
		return err
	}
	if res.Sent() {
		return nil
	}
	se := &SendError{Status: res.StatusCode, Reason: res.Reason}
	switch {
	// 410 Unregistered: the app is gone from the device; 400
	// BadDeviceToken or DeviceTokenNotForTopic: the token is not one of
	// this app's (Apple: stop sending to it).
	case res.StatusCode == http.StatusGone, res.Reason == apns2.ReasonBadDeviceToken, res.Reason == apns2.ReasonDeviceTokenNotForTopic:
		se.Unregistered = true
	case retryableStatus(res.StatusCode):
		se.Retryable = true // APNs sends no Retry-After: backoff decides
	}
	return se
}
