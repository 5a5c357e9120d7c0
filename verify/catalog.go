package verify

// Catalog returns every provider keysweep verifies secrets of (AWS is
// package aws's), each time a new copy.
func Catalog() []*Provider {
	return []*Provider{
		github(), gitlab(), npm(), pypi(), dockerhub(), huggingface(),
		slack(), discord(), telegram(), openai(), anthropic(), sendgrid(), mailgun(), twilio(),
		stripe(), shopify(), google(), gcp(), azure(), digitalocean(), heroku(), datadog(), newrelic(), sentry(),
	}
}
