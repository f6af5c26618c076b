// One execution of a state machine on aws-local-stepfunctions, a second ASL interpreter
// independent of moto's. Reads one request (JSON) on stdin, writes one report (JSON) on
// stdout. Lambda tasks are invoked through the AWS SDK, at AWS_ENDPOINT_URL_LAMBDA (the
// local runtime's Lambda service); service integrations (arn:aws:states:::...), which
// this interpreter cannot call, are answered here and reported, for the caller to apply.
//
// Request:  {definition, input, context, retryIntervalOverrides}
//   retryIntervalOverrides: state name -> the pause before each retry, in milliseconds, one
//   per retrier (shortened by the caller on purpose; the ASL itself is never edited).
// Report:   {status, error, cause, output, path, retries, serviceCalls}
//   path: the states entered, in order; retries: how many times each entry of path was
//   retried; serviceCalls: [{state, resource, parameters}] of the integrations answered here.

import { StateMachine } from "aws-local-stepfunctions";

// aws-local-stepfunctions 3 asks for Node.js 22, for one thing only: Promise.withResolvers
// (its Task state races the task against TimeoutSeconds with it). Node.js 20, the oldest the
// AWS SDK it invokes Lambda with supports, has everything else; there it gets the standard
// method from this polyfill (the library's engines field is the one thing not honoured).
const [major] = process.versions.node.split(".").map(Number);
if (major < 20) throw new Error(`Node.js ${process.versions.node}: 20 or later is needed`);
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new this((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
};

const SERVICE_PREFIX = "arn:aws:states:::";

// What each integration's API answers: the state reads nothing of it here (ResultPath null),
// but the shape is the service's own, so a ResultPath added later reads what AWS would give.
const SERVICE_ANSWERS = {
  "sqs:sendMessage": () => ({
    MessageId: crypto.randomUUID(),
    MD5OfMessageBody: "not-computed-by-the-second-interpreter",
  }),
};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function localHandlers(definition, serviceCalls) {
  const handlers = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== "Task" || !state.Resource.startsWith(SERVICE_PREFIX)) continue;
    const api = state.Resource.slice(SERVICE_PREFIX.length);
    const answer = SERVICE_ANSWERS[api];
    if (!answer) throw new Error(`state ${name}: no local answer for ${state.Resource}`);
    handlers[name] = (parameters) => {
      serviceCalls.push({ state: name, resource: state.Resource, parameters });
      return answer(parameters);
    };
  }
  return handlers;
}

async function main() {
  const request = await readStdin();
  const serviceCalls = [];
  const machine = new StateMachine(request.definition);
  const execution = machine.run(request.input, {
    overrides: {
      taskResourceLocalHandlers: localHandlers(request.definition, serviceCalls),
      retryIntervalOverrides: request.retryIntervalOverrides,
    },
    context: request.context,
  });
  // Settled here at once: a failed execution rejects it, and an unhandled rejection would
  // end this process before the event log is read. The end is in the event log.
  const settled = execution.result.catch(() => null);
  const report = { status: null, error: null, cause: null, output: null, path: [], retries: [] };
  report.serviceCalls = serviceCalls;
  for await (const event of execution.eventLogs) {
    if (event.type === "StateEntered") {
      report.path.push(event.state.name);
      report.retries.push(0);
    }
    if (event.type === "StateRetried") report.retries[report.retries.length - 1] += 1;
    if (event.type === "ExecutionSucceeded") {
      report.status = "SUCCEEDED";
      report.output = event.output;
    }
    if (event.type === "ExecutionFailed") {
      report.status = "FAILED";
      report.error = event.Error ?? null;
      const cause = event.Cause ?? null;
      report.cause = cause === null || typeof cause === "string" ? cause : JSON.stringify(cause);
    }
    if (event.type === "ExecutionAborted" || event.type === "ExecutionTimeout") {
      report.status = event.type === "ExecutionAborted" ? "ABORTED" : "TIMED_OUT";
    }
  }
  await settled;
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
