package dryrun

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

// Store keeps the dry runs and their results (collection rule_simulations).
type Store struct {
	sims *mongo.Collection
	now  func() time.Time
}

// NewStore returns the dry runs kept in db; now is the clock.
func NewStore(db *mongo.Database, now func() time.Time) *Store {
	return &Store{sims: db.Collection("rule_simulations"), now: func() time.Time { return now().UTC().Truncate(time.Millisecond) }}
}

// IndexSimulations serves NextQueued: the queued dry runs, oldest first.
const IndexSimulations = "simulation_status"

// EnsureIndexes creates the index the queue relies on; safe to repeat.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.sims, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(IndexSimulations)})
}

// SimStatus is where a dry run is.
type SimStatus string

const (
	SimQueued  SimStatus = "QUEUED"
	SimRunning SimStatus = "RUNNING"
	SimDone    SimStatus = "DONE"
	SimFailed  SimStatus = "FAILED"
)

// Simulation is one dry run, kept with its result.
type Simulation struct {
	ID          bson.ObjectID `bson:"_id"`
	Status      SimStatus     `bson:"status"`
	RequestedBy string        `bson:"requestedBy"`
	Changes     []Change      `bson:"changes"`
	From        time.Time     `bson:"from"`
	To          time.Time     `bson:"to"`
	// BaseSetVersion is today's rule set version it compared with; the
	// proposed set is today's with Changes.
	BaseSetVersion int64 `bson:"baseSetVersion"`
	// Read is how many activities of the range the dry run has read; it
	// reads them all (Activities.Scan) before it replays the first, which
	// Processed of Total counts.
	Read       int64      `bson:"read"`
	Processed  int64      `bson:"processed"`
	Total      int64      `bson:"total"`
	Result     *Result    `bson:"result,omitempty"`
	Error      string     `bson:"error,omitempty"`
	CreatedAt  time.Time  `bson:"createdAt"`
	FinishedAt *time.Time `bson:"finishedAt,omitempty"`
	// Epoch fences the job instance that runs it.
	Runner string `bson:"runner,omitempty"`
}

var ErrSimulationNotFound = fault.New(fault.NotFound, "simulation not found")

// Queue stores a dry run for the background job.
func (s *Store) Queue(ctx context.Context, sim *Simulation) error {
	sim.ID, sim.Status, sim.CreatedAt = bson.NewObjectID(), SimQueued, s.now()
	_, err := s.sims.InsertOne(ctx, sim)
	return err
}

// Simulation returns dry run id.
func (s *Store) Simulation(ctx context.Context, id bson.ObjectID) (*Simulation, error) {
	var sim Simulation
	err := s.sims.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sim)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrSimulationNotFound
	}
	return &sim, err
}

// Simulations pages the dry runs newest first, before the id before (zero:
// from the newest).
func (s *Store) Simulations(ctx context.Context, before bson.ObjectID, limit int) ([]*Simulation, bool, error) {
	filter := bson.D{}
	if !before.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}}}
	}
	return page.Find[*Simulation](ctx, s.sims, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}), limit)
}

// NextQueued claims the oldest queued dry run for runner (one
// conditional update: of two instances one gets it), or one left running
// by another runner: the jobs run under one lease, so its runner lost the
// lease (a dry run is a pure computation: running it again is harmless).
// Nil when there is none.
func (s *Store) NextQueued(ctx context.Context, runner string) (*Simulation, error) {
	var sim Simulation
	err := s.sims.FindOneAndUpdate(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: SimQueued}},
		bson.D{{Key: "status", Value: SimRunning}, {Key: "runner", Value: bson.D{{Key: "$ne", Value: runner}}}},
	}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: SimRunning}, {Key: "runner", Value: runner}}}},
		options.FindOneAndUpdate().SetSort(bson.D{{Key: "_id", Value: 1}}).SetReturnDocument(options.After)).Decode(&sim)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	return &sim, err
}

// Progress records how far a running dry run is.
func (s *Store) Progress(ctx context.Context, id bson.ObjectID, processed, total int64) error {
	_, err := s.sims.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: SimRunning}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "processed", Value: processed}, {Key: "total", Value: total}}}})
	return err
}

// Reading records how many activities a running dry run has read.
func (s *Store) Reading(ctx context.Context, id bson.ObjectID, read int64) error {
	_, err := s.sims.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: SimRunning}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "read", Value: read}}}})
	return err
}

// Finish records a dry run's result, or its failure.
func (s *Store) Finish(ctx context.Context, id bson.ObjectID, res *Result, baseVersion int64, failure error) error {
	now := s.now()
	set := bson.D{{Key: "status", Value: SimDone}, {Key: "finishedAt", Value: now}, {Key: "baseSetVersion", Value: baseVersion}}
	if res != nil {
		set = append(set, bson.E{Key: "result", Value: res}, bson.E{Key: "read", Value: res.Activities}, bson.E{Key: "processed", Value: res.Activities}, bson.E{Key: "total", Value: res.Activities})
	}
	if failure != nil {
		set[0].Value = SimFailed
		set = append(set, bson.E{Key: "error", Value: failure.Error()})
	}
	_, err := s.sims.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return err
}
