package game

import "github.com/regulars/regulars/game/effects"

// SetWebhooks makes the effects path emit webhook events to h (nil: none);
// rewards and offers emit theirs through it too. Set before serving.
func (s *Service) SetWebhooks(h effects.Webhooks) {
	s.path.SetWebhooks(h)
	s.rewards.SetWebhooks(h)
	s.offers.Webhooks = h
}
