package readapi_test

// idsOf is the id of each of rows, in order (what a list's tests compare).
func idsOf[T any](rows []T, id func(T) int64) []int64 {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = id(r)
	}
	return ids
}
