package server

import (
	"container/list"
	"sync"

	"sieve/grammar"
	"sieve/tokenizer"
)

// grammarCacheSize bounds the compiled grammars a backend keeps; each
// holds at most grammar.DefaultMaskCacheBytes of masks.
const grammarCacheSize = 16

// grammarCache keeps the recently used compiled grammars of a backend by
// their kind and text, and the vocabulary trie they share, built on first
// use.
type grammarCache struct {
	tok       tokenizer.Tokenizer
	vocabOnce sync.Once
	vocab     *grammar.Vocabulary

	mu    sync.Mutex
	order *list.List // of *grammarEntry, most recently used first
	byKey map[string]*list.Element
}

// grammarEntry is one cached grammar.
type grammarEntry struct {
	key      string
	compiled *grammar.Compiled
}

// newGrammarCache returns an empty cache for tok's vocabulary.
func newGrammarCache(tok tokenizer.Tokenizer) *grammarCache {
	return &grammarCache{tok: tok, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the compiled grammar of key, compiling it with compile on a
// miss. Errors are not cached.
func (c *grammarCache) get(key string, compile func() (*grammar.Grammar, error)) (*grammar.Compiled, error) {
	c.mu.Lock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		c.mu.Unlock()
		return el.Value.(*grammarEntry).compiled, nil
	}
	c.mu.Unlock()
	g, err := compile()
	if err != nil {
		return nil, err
	}
	c.vocabOnce.Do(func() { c.vocab = grammar.NewVocabulary(c.tok) })
	compiled := grammar.Bind(g, c.vocab)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok { // compiled meanwhile by another request
		return el.Value.(*grammarEntry).compiled, nil
	}
	c.byKey[key] = c.order.PushFront(&grammarEntry{key: key, compiled: compiled})
	for c.order.Len() > grammarCacheSize {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*grammarEntry).key)
	}
	return compiled, nil
}
