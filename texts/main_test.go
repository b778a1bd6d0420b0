package texts

import (
	"testing"

	"github.com/regulars/regulars/internal/mongotest"
)

func TestMain(m *testing.M) { mongotest.Main(m) }
