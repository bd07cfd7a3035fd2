package agentic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Event is one step of an assistant's answer (the frames of
// assist/stream): progress (Step generating, validating, validated,
// validation_failed or retrying, with the attempt), token (a Chunk of the
// model's answer), complete (Data) or error (Message).
type Event struct {
	Event       string        `json:"event"`
	Step        string        `json:"step,omitempty"`
	Attempt     int           `json:"attempt,omitempty"`
	MaxAttempts int           `json:"max_attempts,omitempty"`
	Chunk       string        `json:"chunk,omitempty"`
	Error       string        `json:"error,omitempty"`
	Message     string        `json:"message,omitempty"`
	Data        *AssistResult `json:"data,omitempty"`
}

// Suggestion is a component the assistant suggests: an engine component
// type and why.
type Suggestion struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// Answer is the JSON object the model is asked to answer.
type Answer struct {
	Answer      string       `json:"answer"`
	Suggestions []Suggestion `json:"suggestions"`
}

// AssistResult is a validated answer.
type AssistResult struct {
	Result             Answer `json:"result"`
	Validated          bool   `json:"validated"`
	ValidationAttempts int    `json:"validation_attempts"`
	Provider           string `json:"provider"`
	ModelName          string `json:"model_name"`
}

// Assist answers req for user: it loads the request's flow (which user
// must be allowed to run; one it may not read is not found), asks the
// model (the request's provider and model, or the defaults) for a JSON
// Answer about it, and validates the answer (a JSON object whose
// suggested components are engine component types); an invalid answer is
// asked again, with what was wrong, up to max_retries times (default 3),
// then refused (*ValidationError). onEvent, when not nil, gets the steps
// and the model's tokens as they come (the model's answer is then
// streamed).
func (s *Service) Assist(ctx context.Context, user int64, req Request, onEvent func(Event)) (*AssistResult, error) {
	emit := func(ev Event) {
		if onEvent != nil {
			onEvent(ev)
		}
	}
	retries := DefaultMaxRetries
	if req.MaxRetries != nil {
		retries = min(max(*req.MaxRetries, 0), maxRetriesLimit)
	}
	attempts := retries + 1
	f, tenant, err := s.flow(ctx, user, req.FlowID)
	if err != nil {
		return nil, err
	}
	sel, err := s.choose(ctx, user, tenant, req.Provider, req.ModelName)
	if err != nil {
		return nil, err
	}
	chat, err := s.open(ctx, user, tenant, sel)
	if err != nil {
		return nil, err
	}
	msgs := []engine.ChatMessage{
		{Role: "system", Content: s.systemPrompt()},
		{Role: "user", Content: describe(f, req) + "\nRequest: " + deref(req.InputValue, "Explain this flow and suggest the next component.")},
	}
	var onChunk func(string) error
	if onEvent != nil {
		onChunk = func(c string) error {
			if c != "" {
				emit(Event{Event: "token", Chunk: c})
			}
			return ctx.Err()
		}
	}
	var last string
	for attempt := 1; attempt <= attempts; attempt++ {
		emit(Event{Event: "progress", Step: "generating", Attempt: attempt, MaxAttempts: attempts})
		text, err := chat.Chat(ctx, engine.ChatRequest{Messages: msgs, JSONMode: true}, onChunk)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &ModelError{Err: err}
		}
		emit(Event{Event: "progress", Step: "validating", Attempt: attempt, MaxAttempts: attempts})
		ans, verr := s.validate(text)
		if verr == nil {
			emit(Event{Event: "progress", Step: "validated", Attempt: attempt, MaxAttempts: attempts})
			return &AssistResult{Result: *ans, Validated: true, ValidationAttempts: attempt,
				Provider: sel.provider.Name, ModelName: sel.model}, nil
		}
		last = verr.Error()
		emit(Event{Event: "progress", Step: "validation_failed", Attempt: attempt, MaxAttempts: attempts, Error: last})
		if attempt < attempts {
			emit(Event{Event: "progress", Step: "retrying", Attempt: attempt + 1, MaxAttempts: attempts})
			msgs = append(msgs, engine.ChatMessage{Role: "assistant", Content: text},
				engine.ChatMessage{Role: "user", Content: "Your answer did not validate: " + last +
					". Answer again with only the JSON object, suggesting only component types of the list."})
		}
	}
	return nil, &ValidationError{Attempts: attempts, Last: last}
}

// systemPrompt tells the model what to answer, and which components exist.
func (s *Service) systemPrompt() string {
	return "You are SkillFlaw's flow assistant: you help a user build a flow of components. You never write or run code. " +
		"Answer with only a JSON object of this shape: " +
		`{"answer": "<your answer, text>", "suggestions": [{"component": "<component type>", "reason": "<why>"}]}` +
		". Each suggested component must be one of these component types: " + strings.Join(s.Components, ", ") + "."
}

// validate parses and checks a model's answer.
func (s *Service) validate(text string) (*Answer, error) {
	body := strings.TrimSpace(text)
	// A fenced answer (```json … ```) is unwrapped.
	if strings.HasPrefix(body, "```") {
		body = strings.TrimPrefix(body, "```")
		body = strings.TrimPrefix(body, "json")
		body = strings.TrimSuffix(strings.TrimSpace(body), "```")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	var a Answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("the answer is not the JSON object asked for (%v)", err)
	}
	if dec.More() {
		return nil, errors.New("the answer has text after its JSON object")
	}
	if strings.TrimSpace(a.Answer) == "" {
		return nil, errors.New(`"answer" is empty`)
	}
	if a.Suggestions == nil {
		a.Suggestions = []Suggestion{}
	}
	for i, sg := range a.Suggestions {
		if s.Component == nil || !s.Component(sg.Component) {
			return nil, fmt.Errorf("suggestion %d names %q, which is not a component type", i+1, sg.Component)
		}
	}
	return &a, nil
}
