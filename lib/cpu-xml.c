/* libvirt's CPU XML, read and written (see cpu-xml.h). */
#define _GNU_SOURCE 1
#include "lib/cpu-xml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static const char *const modes[] = {
    [CPU_XML_CUSTOM] = "custom",
    [CPU_XML_HOST_MODEL] = "host-model",
    [CPU_XML_HOST_PASSTHROUGH] = "host-passthrough",
    [CPU_XML_MAXIMUM] = "maximum",
};

static const char *const policies[] = {
    [CPU_XML_FORCE] = "force",
    [CPU_XML_REQUIRE] = "require",
    [CPU_XML_OPTIONAL] = "optional",
    [CPU_XML_DISABLE] = "disable",
    [CPU_XML_FORBID] = "forbid",
};

#define N_ELEMS(A) (sizeof (A) / sizeof *(A))

const char *
cpu_xml_mode_to_string(enum cpu_xml_mode mode)
{
    return mode < N_ELEMS(modes) ? modes[mode] : "?";
}

const char *
cpu_xml_policy_to_string(enum cpu_xml_policy policy)
{
    return policy < N_ELEMS(policies) ? policies[policy] : "?";
}

static char *
xstrdup__(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        abort();
    }
    return d;
}

static bool
fail__(char **errp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool
fail__(char **errp, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    if (errp && vasprintf(errp, fmt, args) < 0) {
        abort();
    }
    va_end(args);
    return false;
}

void
cpu_xml_destroy(struct cpu_xml *cpu)
{
    if (cpu) {
        free(cpu->model);
        free(cpu->vendor);
        free(cpu->arch);
        free(cpu->features);
        memset(cpu, 0, sizeof *cpu);
    }
}

static bool
name_ok__(const char *s)
{
    size_t len = strlen(s);
    return (len && len <= CPU_XML_MAX_MODEL
            && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789._-") == len);
}

/* The text of element 'node', trimmed, into '*sp' (replacing it). */
static bool
get_name__(xmlNode *node, const char *what, char **sp, char **errp)
{
    xmlChar *text = xmlNodeGetContent(node);
    const char *t = text ? (const char *) text : "";
    size_t start = strspn(t, " \t\r\n");
    size_t len = strlen(t + start);
    while (len && strchr(" \t\r\n", t[start + len - 1])) {
        len--;
    }
    char *s = strndup(t + start, len);
    xmlFree(text);
    if (!s) {
        abort();
    }
    if (!name_ok__(s)) {
        fail__(errp, "<%s>: \"%.64s\" is not 1 to %d of [A-Za-z0-9._-]",
               what, s, CPU_XML_MAX_MODEL);
        free(s);
        return false;
    }
    free(*sp);
    *sp = s;
    return true;
}

/* Adds feature 'name' with 'policy' (NULL: require) to 'cpu'. */
static bool
add_named_feature__(struct cpu_xml *cpu, const char *name,
                    const char *policy, char **errp)
{
    struct cpu_xml_feature f = { .policy = CPU_XML_REQUIRE };

    if (!cpu_name_canonical(name, f.name, sizeof f.name)) {
        return fail__(errp, "<feature name='%.64s'>: not a CPU feature name "
                      "(1 to %d of [a-z0-9_.-])", name, CPU_NAME_MAX);
    }
    if (policy) {
        size_t i;
        for (i = 0; i < N_ELEMS(policies); i++) {
            if (!strcmp(policy, policies[i])) {
                break;
            }
        }
        if (i == N_ELEMS(policies)) {
            return fail__(errp, "<feature name='%s'>: unknown policy '%.32s' "
                          "(force, require, optional, disable, forbid)",
                          name, policy);
        }
        f.policy = i;
    }
    for (size_t i = 0; i < cpu->n_features; i++) {
        if (!strcmp(cpu->features[i].name, f.name)) {
            return fail__(errp, "<feature name='%s'> appears twice", name);
        }
    }
    if (cpu->n_features >= CPU_XML_MAX_FEATURES) {
        return fail__(errp, "more than %d features", CPU_XML_MAX_FEATURES);
    }
    cpu->features = realloc(cpu->features,
                            (cpu->n_features + 1) * sizeof *cpu->features);
    if (!cpu->features) {
        abort();
    }
    cpu->features[cpu->n_features++] = f;
    return true;
}

static bool
add_feature__(struct cpu_xml *cpu, xmlNode *node, char **errp)
{
    xmlChar *name = xmlGetProp(node, (const xmlChar *) "name");
    xmlChar *policy = xmlGetProp(node, (const xmlChar *) "policy");
    bool ok = (name
               ? add_named_feature__(cpu, (const char *) name,
                                     (const char *) policy, errp)
               : fail__(errp, "<feature> without a name"));
    xmlFree(name);
    xmlFree(policy);
    return ok;
}

/* Reads <cpu> element 'root' into 'cpu' (emptied first). */
static bool
parse_cpu__(xmlNode *root, struct cpu_xml *cpu, char **errp)
{
    memset(cpu, 0, sizeof *cpu);

    xmlChar *mode = xmlGetProp(root, (const xmlChar *) "mode");
    if (mode) {
        size_t i;
        for (i = 0; i < N_ELEMS(modes); i++) {
            if (!strcmp((const char *) mode, modes[i])) {
                break;
            }
        }
        if (i == N_ELEMS(modes)) {
            fail__(errp, "<cpu mode='%.32s'>: unknown mode (custom, "
                   "host-model, host-passthrough, maximum)",
                   (const char *) mode);
            xmlFree(mode);
            return false;
        }
        cpu->mode = i;
        xmlFree(mode);
    }
    for (xmlNode *n = root->children; n; n = n->next) {
        const char *name = (const char *) n->name;
        bool ok = true;
        if (n->type != XML_ELEMENT_NODE) {
            continue;
        } else if (!strcmp(name, "model")) {
            /* host-model may say <model fallback='allow'/>. */
            xmlChar *text = xmlNodeGetContent(n);
            bool empty = !text || !text[strspn((const char *) text,
                                               " \t\r\n")];
            xmlFree(text);
            if (!empty || cpu->mode == CPU_XML_CUSTOM) {
                ok = get_name__(n, "model", &cpu->model, errp);
            }
        } else if (!strcmp(name, "vendor")) {
            ok = get_name__(n, "vendor", &cpu->vendor, errp);
        } else if (!strcmp(name, "arch")) {
            ok = get_name__(n, "arch", &cpu->arch, errp);
        } else if (!strcmp(name, "feature")) {
            ok = add_feature__(cpu, n, errp);
        } else if (!strcmp(name, "features")) {
            /* Some drivers list a host's as <features><pae/></features>. */
            for (xmlNode *f = n->children; f && ok; f = f->next) {
                if (f->type == XML_ELEMENT_NODE) {
                    ok = add_named_feature__(cpu, (const char *) f->name,
                                             NULL, errp);
                }
            }
        }
        if (!ok) {
            cpu_xml_destroy(cpu);
            return false;
        }
    }
    return true;
}

/* Parses 'xml' into '*docp' (the caller frees it with xmlFreeDoc()). */
static bool
read_doc__(const char *xml, xmlDoc **docp, char **errp)
{
    size_t len = strlen(xml);
    *docp = NULL;
    if (len > CPU_XML_MAX_LEN) {
        return fail__(errp, "CPU XML is %zu bytes, over the maximum %d", len,
                      CPU_XML_MAX_LEN);
    }
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        abort();
    }
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, xml, len, "cpu.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR
                                    | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char *msg = xstrdup__(e && e->message ? e->message : "unreadable");
        msg[strcspn(msg, "\n")] = '\0';
        fail__(errp, "malformed XML (line %d): %s", e ? e->line : 0, msg);
        free(msg);
        xmlFreeParserCtxt(ctxt);
        return false;
    }
    xmlFreeParserCtxt(ctxt);
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return fail__(errp, "CPU XML may not have a DTD");
    }
    *docp = doc;
    return true;
}

bool
cpu_xml_parse(const char *xml, struct cpu_xml *cpu, char **errp)
{
    xmlDoc *doc;

    memset(cpu, 0, sizeof *cpu);
    if (!read_doc__(xml, &doc, errp)) {
        return false;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    bool ok = false;
    if (!root || strcmp((const char *) root->name, "cpu")) {
        fail__(errp, "the root element is <%s>, not <cpu>",
               root ? (const char *) root->name : "");
    } else {
        ok = parse_cpu__(root, cpu, errp);
    }
    xmlFreeDoc(doc);
    return ok;
}

static xmlNode *
child__(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE
            && !strcmp((const char *) n->name, name)) {
            return n;
        }
    }
    return NULL;
}

bool
cpu_xml_parse_capabilities(const char *caps, struct cpu_xml *cpu,
                           char **errp)
{
    xmlDoc *doc;

    memset(cpu, 0, sizeof *cpu);
    if (!read_doc__(caps, &doc, errp)) {
        return false;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *node = NULL;
    bool ok = false;
    if (!root || strcmp((const char *) root->name, "capabilities")) {
        fail__(errp, "the root element is <%s>, not <capabilities>",
               root ? (const char *) root->name : "");
    } else if (!(node = child__(child__(root, "host"), "cpu"))) {
        fail__(errp, "no <host><cpu> in the capabilities");
    } else if (parse_cpu__(node, cpu, errp)) {
        cpu->mode = CPU_XML_HOST_PASSTHROUGH;
        ok = true;
    }
    xmlFreeDoc(doc);
    return ok;
}

/* A growing string. */
struct buf__ {
    char *s;
    size_t len, size;
};

static void
put__(struct buf__ *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put__(struct buf__ *b, const char *fmt, ...)
{
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(b->s + b->len, b->size - b->len, fmt, args);
        va_end(args);
        if (n < 0) {
            abort();
        } else if ((size_t) n < b->size - b->len) {
            b->len += n;
            return;
        }
        b->size = 2 * b->size + n + 1;
        b->s = realloc(b->s, b->size);
        if (!b->s) {
            abort();
        }
    }
}

static void
put_name__(struct buf__ *b, const struct cpu_xml_feature *f, bool policy)
{
    char buf[CPU_NAME_MAX + 1];
    const char *name = cpu_name_libvirt(f->name, buf, sizeof buf);
    if (policy) {
        put__(b, "  <feature policy='%s' name='%s'/>\n",
              cpu_xml_policy_to_string(f->policy), name);
    } else {
        put__(b, "  <feature name='%s'/>\n", name);
    }
}

char *
cpu_xml_format(const struct cpu_xml *cpu)
{
    struct buf__ b = { .s = NULL };

    put__(&b, "<cpu mode='%s'", cpu_xml_mode_to_string(cpu->mode));
    if (cpu->mode == CPU_XML_CUSTOM) {
        put__(&b, " match='exact'");
    }
    if (!cpu->model && !cpu->vendor && !cpu->n_features) {
        put__(&b, "/>\n");
        return b.s;
    }
    put__(&b, ">\n");
    if (cpu->model) {
        put__(&b, "  <model fallback='forbid'>%s</model>\n", cpu->model);
    }
    if (cpu->vendor) {
        put__(&b, "  <vendor>%s</vendor>\n", cpu->vendor);
    }
    for (size_t i = 0; i < cpu->n_features; i++) {
        put_name__(&b, &cpu->features[i], true);
    }
    put__(&b, "</cpu>\n");
    return b.s;
}

char *
cpu_xml_format_host(const struct cpu_xml *cpu, const char *arch)
{
    struct buf__ b = { .s = NULL };

    put__(&b, "<cpu>\n  <arch>%s</arch>\n",
          arch ? arch : cpu->arch ? cpu->arch : "x86_64");
    if (cpu->model) {
        put__(&b, "  <model>%s</model>\n", cpu->model);
    }
    if (cpu->vendor) {
        put__(&b, "  <vendor>%s</vendor>\n", cpu->vendor);
    }
    for (size_t i = 0; i < cpu->n_features; i++) {
        if (cpu->features[i].policy <= CPU_XML_OPTIONAL) {
            put_name__(&b, &cpu->features[i], false);
        }
    }
    put__(&b, "</cpu>\n");
    return b.s;
}
