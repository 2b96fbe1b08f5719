package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// contextLen asks GET /v1/models for the served model's max_model_len.
func contextLen(ctx context.Context, hc *http.Client, cfg Config) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL+"/v1/models", nil)
	if err != nil {
		return 0, fmt.Errorf("soak: %w", err)
	}
	if cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("soak: list models: %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			MaxModelLen int `json:"max_model_len"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("soak: GET /v1/models: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Data) == 0 || list.Data[0].MaxModelLen <= 0 {
		return 0, fmt.Errorf("soak: GET /v1/models gave no max_model_len (%v); pass --context", err)
	}
	return list.Data[0].MaxModelLen, nil
}
