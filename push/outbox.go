package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
)

// Delivery statuses.
const (
	statusPending = "PENDING" // due at nextAt
	statusSending = "SENDING" // claimed until nextAt; a claim past it was cut short and is taken again
	statusSent    = "SENT"
	statusFailed  = "FAILED"  // refused for good, or out of attempts
	statusDropped = "DROPPED" // no longer worth sending (read, deleted, token gone, no provider)
)

// Tuning of the outbox.
const (
	batchSize = 100
	workers   = 8
	// claimTTL is how long a send may take before its claim lapses and the
	// delivery is taken again (well past the providers' 30 s timeouts).
	claimTTL = 2 * time.Minute
	// sendTimeout bounds one send, whatever the provider's client does.
	sendTimeout = 30 * time.Second
	// MaxAttempts bounds the sends of one delivery.
	MaxAttempts = 10
	backoffBase = 2 * time.Second
	backoffMax  = 30 * time.Minute
	// retryAfterMax bounds how long a provider's Retry-After is obeyed.
	retryAfterMax = 6 * time.Hour
	// keepEnded is how long finished deliveries are kept (Cleanup).
	keepEnded = 7 * 24 * time.Hour
)

// delivery is one push of one notification to one device, keyed by both.
type delivery struct {
	ID             string        `bson:"_id"` // notification id (hex) ":" token id
	NotificationID bson.ObjectID `bson:"notificationId"`
	MemberID       bson.ObjectID `bson:"memberId"`
	TokenID        string        `bson:"tokenId"`
	Token          string        `bson:"token"`
	Platform       Platform      `bson:"platform"`
	Kind           inbox.Kind    `bson:"kind"`
	Title          string        `bson:"title"`
	Body           string        `bson:"body"`
	DeepLink       string        `bson:"deepLink,omitempty"`
	Status         string        `bson:"status"`
	Attempts       int           `bson:"attempts"`
	NextAt         time.Time     `bson:"nextAt"`
	LastError      string        `bson:"lastError,omitempty"`
	CreatedAt      time.Time     `bson:"createdAt"`
	EndedAt        *time.Time    `bson:"endedAt,omitempty"`
}

// Report is what one Deliver did.
type Report struct {
	Queued  int // deliveries queued from new notifications
	Sent    int
	Retried int // refused for now, to be tried again
	Failed  int
	Dropped int
}

// Deliver runs the outbox once: it queues the deliveries of every
// notification marked for push, then sends every delivery that is due.
// Run it from one instance at a time (the server holds a lease); a crash
// or a second run repeats nothing finished. It never blocks on a slow
// provider longer than its timeouts.
func (s *Service) Deliver(ctx context.Context) (Report, error) {
	var r Report
	st, err := s.deps.Settings(ctx)
	if err != nil {
		return r, err
	}
	if st.Location == nil {
		st.Location = time.UTC
	}
	var after bson.ObjectID
	for {
		ns, err := s.deps.Inbox.PushPending(ctx, after, batchSize)
		if err != nil {
			return r, err
		}
		for _, n := range ns {
			q, err := s.queue(ctx, n, st)
			if err != nil {
				return r, fmt.Errorf("queue pushes of notification %s: %w", n.ID.Hex(), err)
			}
			r.Queued += q
			after = n.ID
		}
		if len(ns) < batchSize {
			break
		}
	}
	for {
		n, err := s.sendDue(ctx, &r)
		if err != nil || n < batchSize {
			return r, err
		}
	}
}

// queue turns a marked notification into its deliveries, as its kind's
// policy says, then clears the mark. Everything it writes is keyed, so a
// rerun after a crash queues nothing twice.
func (s *Service) queue(ctx context.Context, n *inbox.Notification, st Settings) (int, error) {
	now := s.deps.Now().UTC()
	done := func(q int) (int, error) { return q, s.deps.Inbox.PushDone(ctx, n.ID) }
	policy := PolicyOf(n.Kind)
	if policy == PolicyNever || (n.ExpiresAt != nil && !n.ExpiresAt.After(now)) || n.ReadAt != nil {
		return done(0)
	}
	devices, err := s.Devices(ctx, n.MemberID)
	if err != nil || len(devices) == 0 {
		if err != nil {
			return 0, err
		}
		return done(0)
	}
	// The inbox refused muted kinds when storing; a mute since then counts too.
	if c := inbox.CategoryOf(n.Kind); c != "" {
		muted, err := s.deps.Inbox.Muted(ctx, n.MemberID)
		if err != nil {
			return 0, err
		}
		for _, m := range muted {
			if m == c {
				return done(0)
			}
		}
	}
	due := now
	if policy == PolicyMarketing {
		m, err := s.deps.Members.Get(ctx, n.MemberID)
		if errors.Is(err, member.ErrNotFound) {
			return done(0)
		} else if err != nil {
			return 0, err
		}
		if !m.MarketingConsent {
			return done(0)
		}
		loc := st.Location
		if m.Timezone != "" {
			loc = m.Location()
		}
		due = st.quietUntil(now, loc)
		if st.DailyCap > 0 {
			ok, err := s.withinCap(ctx, n.MemberID, n.ID, due.In(loc).Format(time.DateOnly), st.DailyCap)
			if err != nil || !ok {
				if err != nil {
					return 0, err
				}
				return done(0)
			}
		}
	}
	queued := 0
	for _, d := range devices {
		_, err := s.deliveries.InsertOne(ctx, delivery{
			ID: n.ID.Hex() + ":" + d.ID, NotificationID: n.ID, MemberID: n.MemberID, TokenID: d.ID, Token: d.Token, Platform: d.Platform,
			Kind: n.Kind, Title: n.Title, Body: n.Body, DeepLink: n.DeepLink, Status: statusPending, NextAt: due, CreatedAt: now,
		})
		switch {
		case err == nil:
			queued++
		case !mongo.IsDuplicateKeyError(err): // a duplicate: queued by a run cut short
			return queued, err
		}
	}
	return done(queued)
}

// withinCap counts notification id against the member's MARKETING pushes
// of day (local date) and reports whether it fits under limit. A
// notification counted already fits again, so a rerun agrees with the
// first run. One conditional upsert of a per-member-day document: two
// runs at once cannot both take the last place.
func (s *Service) withinCap(ctx context.Context, memberID, id bson.ObjectID, day string, limit int) (bool, error) {
	key := memberID.Hex() + ":" + day
	counted := func() (bool, error) {
		n, err := s.marketing.CountDocuments(ctx, bson.D{{Key: "_id", Value: key}, {Key: "ids", Value: id}})
		return n > 0, err
	}
	if ok, err := counted(); err != nil || ok {
		return ok, err
	}
	_, err := s.marketing.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "count", Value: bson.D{{Key: "$lt", Value: limit}}}, {Key: "ids", Value: bson.D{{Key: "$ne", Value: id}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}, {Key: "$push", Value: bson.D{{Key: "ids", Value: id}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: s.deps.Now().UTC()}}}},
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// The day's document exists and refused the filter: the cap is
		// reached, unless a concurrent run counted this very notification.
		return counted()
	}
	return err == nil, err
}

// sendDue sends up to a batch of due deliveries, a few at a time, and
// returns how many it found.
func (s *Service) sendDue(ctx context.Context, r *Report) (int, error) {
	now := s.deps.Now().UTC()
	cur, err := s.deliveries.Find(ctx,
		bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{statusPending, statusSending}}}}, {Key: "nextAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "nextAt", Value: 1}}).SetLimit(batchSize))
	if err != nil {
		return 0, err
	}
	var due []delivery
	if err := cur.All(ctx, &due); err != nil {
		return 0, err
	}
	outcomes := make([]string, len(due))
	var g errgroup.Group
	g.SetLimit(workers)
	for i := range due {
		g.Go(func() error {
			o, err := s.send(ctx, &due[i])
			outcomes[i] = o
			return err
		})
	}
	err = g.Wait()
	for _, o := range outcomes {
		switch o {
		case statusSent:
			r.Sent++
		case statusPending:
			r.Retried++
		case statusFailed:
			r.Failed++
		case statusDropped:
			r.Dropped++
		}
	}
	return len(due), err
}

// send claims d, sends it and records the outcome (its new status; ""
// when another run had claimed it).
func (s *Service) send(ctx context.Context, d *delivery) (string, error) {
	now := s.deps.Now().UTC()
	// The claim: only the run that moves the delivery from what it read
	// may send it, and its records are fenced by the attempt number.
	res, err := s.deliveries.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "status", Value: d.Status}, {Key: "attempts", Value: d.Attempts}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: statusSending}, {Key: "nextAt", Value: now.Add(claimTTL)}}},
			{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}})
	if err != nil || res.ModifiedCount == 0 {
		return "", err
	}
	d.Attempts++
	end := func(status, why string, next time.Time) (string, error) {
		set := bson.D{{Key: "status", Value: status}, {Key: "nextAt", Value: next}, {Key: "lastError", Value: why}}
		if status != statusPending {
			set = append(set, bson.E{Key: "endedAt", Value: s.deps.Now().UTC()})
		}
		_, err := s.deliveries.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "status", Value: statusSending}, {Key: "attempts", Value: d.Attempts}},
			bson.D{{Key: "$set", Value: set}})
		return status, err
	}
	// A notification read, deleted or expired meanwhile (a marketing push
	// held overnight, say) is not worth a push any more.
	ns, err := s.deps.Inbox.ByID(ctx, d.MemberID, []bson.ObjectID{d.NotificationID})
	if err != nil {
		return "", err
	}
	if ns[0] == nil || ns[0].ReadAt != nil {
		return end(statusDropped, "read or gone before it was pushed", now)
	}
	// The token may have moved to another member (a phone handed on) or
	// been unregistered since the push was queued: never send one member's
	// news to another's phone.
	if owned, err := s.devices.CountDocuments(ctx, bson.D{{Key: "_id", Value: d.TokenID}, {Key: "memberId", Value: d.MemberID}}); err != nil {
		return "", err
	} else if owned == 0 {
		return end(statusDropped, "the device is no longer the member's", now)
	}
	p := s.deps.Providers[d.Platform]
	if p == nil {
		return end(statusDropped, errNoProvider.Error(), now)
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	sendErr := p.Send(sctx, Message{Token: d.Token, Platform: d.Platform, Title: d.Title, Body: d.Body, DeepLink: d.DeepLink,
		Kind: d.Kind, NotificationID: d.NotificationID.Hex()})
	if sendErr == nil {
		return end(statusSent, "", now)
	}
	if ctx.Err() != nil {
		return "", ctx.Err() // shutting down: the claim lapses and the delivery is taken again
	}
	var se *SendError
	switch {
	case errors.As(sendErr, &se) && se.Unregistered:
		if err := s.forgetToken(ctx, d.TokenID); err != nil {
			return "", err
		}
		return end(statusDropped, sendErr.Error(), now)
	case errors.As(sendErr, &se) && !se.Retryable:
		slog.Warn("push: refused", "platform", d.Platform, "status", se.Status, "reason", se.Reason)
		return end(statusFailed, sendErr.Error(), now)
	case d.Attempts >= MaxAttempts:
		return end(statusFailed, sendErr.Error(), now)
	}
	wait := backoff(d.Attempts)
	if errors.As(sendErr, &se) && se.RetryAfter > 0 {
		wait = min(se.RetryAfter, retryAfterMax)
	}
	return end(statusPending, sendErr.Error(), s.deps.Now().UTC().Add(wait))
}

// backoff is the wait after the attempt-th failed send: 2 s doubling, at
// most 30 min.
func backoff(attempt int) time.Duration {
	d := backoffBase
	for range attempt - 1 {
		if d *= 2; d >= backoffMax {
			return backoffMax
		}
	}
	return d
}

// Cleanup deletes deliveries finished more than a week ago and the daily
// marketing counts of past days. Safe to run anywhere, any number of times.
func (s *Service) Cleanup(ctx context.Context) (int64, error) {
	now := s.deps.Now().UTC()
	res, err := s.deliveries.DeleteMany(ctx, bson.D{{Key: "endedAt", Value: bson.D{{Key: "$lt", Value: now.Add(-keepEnded)}}}})
	if err != nil {
		return 0, err
	}
	// A day's count matters until that day ended everywhere.
	if _, err := s.marketing.DeleteMany(ctx, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-3 * 24 * time.Hour)}}}}); err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
