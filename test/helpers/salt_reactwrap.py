"""What Salt's reactor does with a reaction (the dict an sls returns) after rendering it, so the harness can
report the client calls Salt would make — and refuse what Salt would refuse — instead of trusting the dict.

Mirrors Salt 3006-3008, the steps in order:
  salt/state.py Compiler.pad_funcs     "runner.cloud.create: [...]" -> "runner: [..., 'cloud.create']"
  salt/state.py Compiler.verify_high   each state a list with exactly one function
  salt/state.py Compiler.compile_high_data   one low chunk per id and state: state, fun, name, __id__, args...
  salt/utils/reactor.py ReactWrap.run  format_call on the wrapper (runner/wheel(fun, **kw), local(fun, tgt, **kw));
                                       with the `args` form: arg=(), kwarg=repack_dictlist(args), and an
                                       "Incorrect argument format" error when that repacks to nothing
  salt/utils/data.py repack_dictlist   a list of one-key dicts (or plain values) -> one dict
"""
import copy

WRAPPERS = {"runner": ("fun",), "wheel": ("fun",), "local": ("fun", "tgt"), "caller": ("fun",)}


def pad_funcs(high):
    for name, body in high.items():
        if not isinstance(body, dict):
            continue
        seen = set()
        for key in sorted(body):
            if key.startswith("_") or not isinstance(body[key], list):
                continue
            if "." in key:
                state, fun = key.split(".", 1)
                if state in seen:  # Salt keeps the first function of a state type in one id
                    continue
                body[state] = body.pop(key)
                body[state].append(fun)
                seen.add(state)
                continue
            seen.add(key)
    return high


def verify_high(high):
    errors = []
    for name, body in high.items():
        if not isinstance(body, dict):
            errors.append("ID %s is not a dictionary" % name)
            continue
        for state, run in body.items():
            if state.startswith("__"):
                continue
            if not isinstance(run, list):
                errors.append("State %s in ID %s is not formed as a list" % (state, name))
                continue
            funs = sum(1 for arg in run if isinstance(arg, str))
            if funs == 0:
                errors.append("No function declared in state %s in ID %s" % (state, name))
            elif funs > 1:
                errors.append("Too many functions declared in state %s in ID %s" % (state, name))
    return errors


def compile_high_data(high):
    chunks = []
    for name, body in high.items():
        if name.startswith("__"):
            continue
        for state, run in body.items():
            if state.startswith("__"):
                continue
            chunk = {"state": state, "name": name, "__id__": name}
            funs = []
            for arg in run:
                if isinstance(arg, str):
                    funs.append(arg)
                elif isinstance(arg, dict):
                    chunk.update(arg)
            for fun in funs:
                live = copy.deepcopy(chunk)
                live["fun"] = fun
                chunks.append(live)
    return chunks


def is_dictlist(data):
    return isinstance(data, list) and all(isinstance(e, dict) and len(e) == 1 for e in data)


def repack_dictlist(data):
    if not isinstance(data, list):
        return {}
    out = {}
    for element in data:
        if isinstance(element, (str, int, float)):
            out[element] = None
        elif isinstance(element, dict) and len(element) == 1:
            key = next(iter(element))
            out[key] = element[key]
        else:
            return {}
    return out


def react_wrap(low):
    """(call, error): the client call ReactWrap.run would make for one low chunk, or why it would not."""
    needs = WRAPPERS.get(low["state"])
    if needs is None:
        return None, "ReactWrap is missing a wrapper function for '%s'" % low["state"]
    missing = [n for n in needs if n not in low]
    if missing:
        return None, "Reactor '%s' failed to execute %s: missing %s" % (low["__id__"], low["state"], missing)
    kwargs = dict((k, v) for k, v in low.items() if k not in needs)
    call = {"client": low["state"], "fun": low["fun"]}
    if "tgt" in needs:
        call["tgt"] = low["tgt"]
    if "args" in kwargs:
        reactor_args = kwargs.pop("args")
        call["arg"], kwarg = [], reactor_args
        if not isinstance(kwarg, dict):
            kwarg = repack_dictlist(kwarg)
            if not kwarg:
                return None, ("Reactor '%s' failed to execute %s '%s': Incorrect argument format"
                              % (low["__id__"], low["state"], low["fun"]))
        call["kwarg"] = kwarg
    else:  # the legacy form: keyword arguments straight in the chunk, positional ones under arg
        call["arg"] = list(kwargs.pop("arg", []))
        call["kwarg"] = kwargs.pop("kwarg", {})
    for extra in ("tgt_type", "ret", "timeout"):
        if extra in kwargs:
            call[extra] = kwargs[extra]
    return call, None


def salt_calls(reaction):
    """(calls, errors) for a reaction dict, as Salt's reactor would compile and run it."""
    if not reaction:
        return [], []
    high = pad_funcs(copy.deepcopy(reaction))
    errors = verify_high(high)
    if errors:
        return [], errors
    calls, problems = [], []
    for low in compile_high_data(high):
        call, problem = react_wrap(low)
        if call is not None:
            calls.append(call)
        else:
            problems.append(problem)
    return calls, problems
