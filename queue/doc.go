// Package queue is the durable work queue of flow runs: a publisher and
// a consumer over NATS JetStream through Watermill (watermill-nats/v2),
// and an embedded NATS server for tests and single-node setups.
//
// One JetStream stream (StreamName, work-queue retention, file storage)
// holds the tasks on one subject; every worker process pulls from one
// durable consumer (Group), so each task goes to one worker at a time.
// Tasks are pulled (Watermill's JetStream subscriber over a pull
// consumer, one task per free handler), not pushed: a busy worker does
// not hoard tasks that an idle one could run. Acks are explicit: a task
// is acked only when its handler returned nil, nacked (and delivered
// again after Config.RetryDelay) when it returned an error; a worker that
// dies without either leaves the task un-acked and the server delivers
// it again once Config.AckWait passed since the last sign of life. While
// a handler runs, the consumer tells the server every AckWait/3 that the
// task is in progress (JetStream's +WPI), so AckWait bounds how long a
// dead worker's tasks wait, not how long a task may run. Tasks are
// published through Watermill's NATS publisher with the task's id as the
// broker's deduplication id.
//
// The queue delivers at least once: a task may come again (a worker
// that died after its work but before its ack, a network partition). The
// handler makes that harmless (runs.Service.Execute claims a run in the
// log before it runs it).
package queue
