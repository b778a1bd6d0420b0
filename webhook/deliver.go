package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Loop is how Run runs.
type Loop struct {
	// Tick is how often the loop looks for work when nothing kicks it
	// (default 1 s).
	Tick time.Duration
	// Sweeps run at every tick before the fan-out: they emit the events of
	// causes marked in their own documents (members, RSVPs).
	Sweeps []func(context.Context) error
	// Hold reports whether this instance may run the loop now (a lease);
	// nil: always.
	Hold func(context.Context) bool
}

// Run fans events out and delivers them until ctx ends, then waits for the
// attempts in flight. An attempt cut short is tried again (at least once).
func (s *Service) Run(ctx context.Context, l Loop) {
	if l.Tick <= 0 {
		l.Tick = time.Second
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(l.Tick)
	defer t.Stop()
	// Kicks come with every event written; steps run at most every
	// minGap, so a burst of causes costs a few steps, not one each.
	minGap := l.Tick / 4
	var last time.Time
	for {
		if wait := minGap - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		if l.Hold == nil || l.Hold(ctx) {
			s.Step(ctx, &wg, l.Sweeps...)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// Step runs the sweeps, fans out pending events and starts the due
// deliveries (in goroutines added to wg). Errors are logged: the next step
// tries again.
func (s *Service) Step(ctx context.Context, wg *sync.WaitGroup, sweeps ...func(context.Context) error) {
	warn := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			slog.Warn("webhooks: "+what, "err", err)
		}
	}
	for _, sw := range sweeps {
		warn("sweep", sw(ctx))
	}
	_, err := s.FanOut(ctx, 500)
	warn("fan out", err)
	warn("deliver", s.dispatch(ctx, wg))
}

// FanOut creates the deliveries of up to limit pending events, one per
// subscribed endpoint (keyed, so a repeat creates none), then clears the
// events' mark. It returns how many events it fanned out. A batch costs
// four queries whatever its size: the events, the endpoints, the
// deliveries' insert, the marks' update.
func (s *Service) FanOut(ctx context.Context, limit int) (int, error) {
	cur, err := s.events.Find(ctx, bson.D{{Key: "pending", Value: true}},
		options.Find().SetSort(bson.D{{Key: "pending", Value: 1}, {Key: "createdAt", Value: 1}}).SetLimit(int64(limit)).
			SetProjection(bson.D{{Key: "body", Value: 0}}))
	if err != nil {
		return 0, err
	}
	var evs []outboxEvent
	if err := cur.All(ctx, &evs); err != nil || len(evs) == 0 {
		return 0, err
	}
	cur, err = s.endpoints.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "events", Value: 1}}).SetLimit(MaxEndpoints*2))
	if err != nil {
		return 0, err
	}
	var eps []Endpoint
	if err := cur.All(ctx, &eps); err != nil {
		return 0, err
	}
	now := s.now()
	var ds []any
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
		for _, ep := range eps {
			if slices.Contains(ep.Events, ev.Type) {
				ds = append(ds, Delivery{ID: bson.NewObjectID(), Key: ev.ID + "/" + ep.ID.Hex(), EndpointID: ep.ID, EventID: ev.ID, EventType: ev.Type,
					State: StatePending, NextAttemptAt: now, CreatedAt: now, GiveUpAt: now.Add(RetryFor)})
			}
		}
	}
	if len(ds) > 0 {
		// Unordered: the ones a cut-short fan-out made already are
		// duplicates, the others go in.
		if _, err := s.deliveries.InsertMany(ctx, ds, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
			return 0, err
		}
	}
	if _, err := s.events.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}}}); err != nil {
		return 0, err
	}
	return len(evs), nil
}

// onlyDuplicates reports whether every write error of err is a duplicate key.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return true
}

// leaseSlack is how long past its timeout an attempt's claim lasts: a
// claim older than that belongs to a process that died.
const leaseSlack = 30 * time.Second

// dispatch starts, for each endpoint with free slots, its due deliveries,
// each claimed by one conditional update (so two loops never both take it).
func (s *Service) dispatch(ctx context.Context, wg *sync.WaitGroup) error {
	cur, err := s.endpoints.Find(ctx, bson.D{}, options.Find().SetLimit(MaxEndpoints*2))
	if err != nil {
		return err
	}
	var eps []*Endpoint
	if err := cur.All(ctx, &eps); err != nil {
		return err
	}
	for _, ep := range eps {
		s.mu.Lock()
		free := s.PerEndpoint - s.inFlight[ep.ID]
		s.mu.Unlock()
		if free <= 0 {
			continue // busy: its own slots only; the other endpoints go on
		}
		now := s.now()
		cur, err := s.deliveries.Find(ctx, bson.D{{Key: "endpointId", Value: ep.ID}, {Key: "state", Value: StatePending},
			{Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
			options.Find().SetSort(bson.D{{Key: "endpointId", Value: 1}, {Key: "state", Value: 1}, {Key: "nextAttemptAt", Value: 1}}).SetLimit(int64(free)))
		if err != nil {
			return err
		}
		var due []*Delivery
		if err := cur.All(ctx, &due); err != nil {
			return err
		}
		for _, d := range due {
			var claimed Delivery
			err := s.deliveries.FindOneAndUpdate(ctx,
				bson.D{{Key: "_id", Value: d.ID}, {Key: "state", Value: StatePending}, {Key: "nextAttemptAt", Value: d.NextAttemptAt}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "nextAttemptAt", Value: now.Add(s.Timeout + leaseSlack)}, {Key: "lastAttemptAt", Value: now}}},
					{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}},
				options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&claimed)
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue // another loop took it, or it was redelivered
			}
			if err != nil {
				return err
			}
			s.mu.Lock()
			s.inFlight[ep.ID]++
			s.mu.Unlock()
			wg.Go(func() {
				defer func() {
					s.mu.Lock()
					s.inFlight[ep.ID]--
					s.mu.Unlock()
					s.Kick() // a slot is free: the endpoint's next delivery may go
				}()
				if err := s.attempt(ctx, ep, &claimed); err != nil && ctx.Err() == nil {
					slog.Warn("webhooks: record attempt", "delivery", claimed.ID.Hex(), "err", err)
				}
			})
		}
	}
	return nil
}

// attempt POSTs the delivery's event to the endpoint and records the answer.
func (s *Service) attempt(ctx context.Context, ep *Endpoint, d *Delivery) error {
	var ev outboxEvent
	if err := s.events.FindOne(ctx, bson.D{{Key: "_id", Value: d.EventID}}).Decode(&ev); err != nil {
		return err
	}
	status, excerpt, sendErr := s.post(ctx, ep, &ev)
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: the claim lapses and the delivery is tried again
	}
	// The answer is recorded even if the loop is stopping meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := s.now()
	set := bson.D{{Key: "lastStatus", Value: status}, {Key: "lastResponse", Value: excerpt}}
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		set = append(set, bson.E{Key: "state", Value: StateDelivered}, bson.E{Key: "deliveredAt", Value: now}, bson.E{Key: "lastError", Value: ""})
	case !now.Before(d.GiveUpAt):
		set = append(set, bson.E{Key: "state", Value: StateFailed}, bson.E{Key: "lastError", Value: errText(sendErr, status)})
	default:
		set = append(set, bson.E{Key: "nextAttemptAt", Value: now.Add(Backoff(d.Attempts))}, bson.E{Key: "lastError", Value: errText(sendErr, status)})
	}
	// Only the attempt that holds the claim records: a redelivery or a
	// later claim since then stays as it is.
	_, err := s.deliveries.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "state", Value: StatePending}, {Key: "attempts", Value: d.Attempts}},
		bson.D{{Key: "$set", Value: set}})
	return err
}

func errText(err error, status int) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("HTTP %d", status)
}

// post sends one attempt: the stored body, signed now.
func (s *Service) post(ctx context.Context, ep *Endpoint, ev *outboxEvent) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	body := []byte(ev.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Regulars-Webhooks/1")
	req.Header.Set("Regulars-Event-Id", ev.ID)
	req.Header.Set("Regulars-Event-Type", string(ev.Type))
	req.Header.Set(SignatureHeader, Sign(ep.Secret, s.Now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxExcerpt))
	return resp.StatusCode, string(bytes.ToValidUTF8(b, []byte("�"))), err
}

// Backoff is the wait after the attempt-th failed attempt: 10 s doubling
// up to an hour, each drawn between half and all of it (jitter, so
// deliveries failed together do not come back together). Over RetryFor
// that is about 30 attempts.
func Backoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	return d/2 + rand.N(d/2+1)
}
