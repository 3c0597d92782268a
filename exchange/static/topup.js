// The card step of a top-up: Stripe's own card Element, confirmed by Stripe.js.
// This page credits nothing; the balance moves only when Stripe's signed
// payment_intent.succeeded webhook reaches the server.
(function () {
  "use strict";
  const form = document.getElementById("card-form");
  const result = document.getElementById("card-result");
  const done = document.getElementById("card-done");
  const button = form.querySelector("button[type=submit]");

  function show(text, failed) {
    result.textContent = text;
    result.className = failed ? "flash" : "notice";
  }

  if (typeof Stripe !== "function") {
    button.disabled = true;
    show("Stripe's card form could not be loaded; please reload the page.", true);
    return;
  }
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    show("Confirming the payment with Stripe…", false);
    let outcome;
    try {
      outcome = await stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } });
    } catch (error) {
      outcome = { error: error };
    }
    const intent = outcome.paymentIntent;
    if (!outcome.error && intent && (intent.status === "succeeded" || intent.status === "processing")) {
      show("Payment received by Stripe; your balance is credited as soon as Stripe confirms it.", false);
      done.hidden = false;
      return;
    }
    const error = outcome.error || (intent && intent.last_payment_error) || {};
    show(error.message || "Stripe did not take the payment (" + (intent ? intent.status : "no answer") + ").", true);
    button.disabled = false;
  });
})();
