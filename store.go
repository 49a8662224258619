package voucherwatch

import "context"

// WriteResult says what a write did with the records it was given.
type WriteResult struct {
	Stored     int // records that were new and are now stored
	Duplicates int // records recognised as already stored (same source and id)
}

// RecordStore keeps each record once. Implementations must make a repeated write of the same
// records (a redelivery, a re-sent record, a batch re-consumed after a crash) store nothing new,
// also when several engine instances write at once.
type RecordStore interface {
	// StoreRecords stores the records of one type that are not stored yet. Every record must
	// have the given type. On error nothing may be assumed stored and the caller retries.
	StoreRecords(ctx context.Context, typ RecordType, recs []Record) (WriteResult, error)
	// StoreDeadLetters keeps rejected messages for the data-quality views. Storing the same
	// message (topic, partition, offset) twice keeps one.
	StoreDeadLetters(ctx context.Context, dls []DeadLetter) error
}
