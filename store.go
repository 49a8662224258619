package voucherwatch

import (
	"context"
	"time"
)

// WriteResult says what a write did with the records it was given.
type WriteResult struct {
	Stored     int // records that were new and are now stored
	Duplicates int // records recognised as already stored (same source and id)
	// Stages says where the write's time went, for the operators' metrics and the batch log;
	// a store that does not measure leaves it zero.
	Stages WriteStages
}

// WriteStages is the time a write spent in each of its stages. LookUp and Fill overlap (the
// keys are looked up while the INSERT is filled), so the stages need not add up to the whole.
type WriteStages struct {
	Turn    time.Duration // waiting for this process's earlier write of the same type
	Prepare time.Duration // opening the INSERT on the server
	LookUp  time.Duration // asking which records are stored, the first time
	Wait    time.Duration // waiting for other writers' earlier INSERTs, and looking up again
	Fill    time.Duration // encoding the records into the INSERT's columns
	Send    time.Duration // sending the INSERT and the server writing it, its views included
	Retries int           // INSERTs filled again without records found stored
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

// RecordPreparer is a RecordStore that can do a batch's own work (checking its records,
// dropping the ones it repeats, ordering them for storage) before the batch's turn to be
// stored: a consumer prepares its next batch while the one before is being stored.
type RecordPreparer interface {
	// PrepareRecords prepares records of one type; its errors are StoreRecords'.
	PrepareRecords(typ RecordType, recs []Record) (PreparedRecords, error)
	// StorePrepared stores a prepared batch as StoreRecords stores it, once: after an error
	// the caller retries with StoreRecords.
	StorePrepared(ctx context.Context, p PreparedRecords) (WriteResult, error)
}

// PreparedRecords is a batch prepared by a RecordPreparer.
type PreparedRecords interface {
	// Records returns the batch's records as given.
	Records() []Record
	// Release gives the batch's working memory back, once it is stored or given up.
	Release()
}
