package activity

// SetMaxScan lowers how many activities Scan holds.
func (s *Store) SetMaxScan(n int) { s.maxScan = n }

func (s *Store) SetReadEvery(n int) { s.readEvery = n }
