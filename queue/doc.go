// Package queue is the durable work queue of flow runs: a publisher and
// a consumer over NATS JetStream through Watermill (watermill-nats/v2),
// and an embedded NATS server for tests and single-node setups.
//
// One JetStream stream (StreamName, work-queue retention, file storage)
// holds the tasks on one subject; every worker process binds to one
// durable consumer (Group) as a member of one queue group, so each task
// goes to one worker at a time. Acks are explicit: a task is acked only
// when its handler returned nil, nacked (and delivered again after
// Config.RetryDelay) when it returned an error; a worker that dies
// without either leaves the task un-acked and the server delivers it
// again once Config.AckWait passed since the last sign of life. While a
// handler runs, the consumer tells the server every AckWait/3 that the
// task is in progress (JetStream's +WPI), so AckWait bounds how long a
// dead worker's tasks wait, not how long a task may run.
//
// The queue delivers at least once: a task may come again (a worker
// that died after its work but before its ack, a network partition). The
// handler makes that harmless (runs.Service.Execute claims a run in the
// log before it runs it).
package queue
