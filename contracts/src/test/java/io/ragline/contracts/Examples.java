package io.ragline.contracts;

import java.util.List;

/**
 * Values of each topic that its schema accepts and values it refuses, with the key they are
 * sent under (always the right key: keys are outside what a JSON Schema can say). Written with
 * single quotes for double ones.
 */
record Examples(List<Example> valid, List<Example> invalid) {

    record Example(String key, String value) {
        @Override
        public String toString() {
            return "key " + key + ": " + value;
        }
    }

    private static Example e(String key, String value) {
        return new Example(key, value.replace('\'', '"'));
    }

    static Examples of(Topic topic) {
        return switch (topic) {
            case DOCUMENTS -> documents();
            case EMBEDDING_REQUESTS -> embeddingRequests();
            case TRAINING -> training();
            case CLAUDE_EVENTS -> claudeEvents();
            case PIPELINE_EVENTS -> pipelineEvents();
            case CONVERSATIONS -> conversations();
        };
    }

    private static final String TURN = "'session_id':'s1','message_id':'m1','role':'user','content':'hi'";

    private static Examples conversations() {
        return new Examples(
                List.of(
                        e("s1", "{" + TURN + "}"),
                        e("s1", "{'session_id':'s1','message_id':'m2','role':'tool','content':''}"),
                        e(
                                "s1",
                                "{'schema_version':1," + TURN + ",'metadata':{'model':'m'},"
                                        + "'created_at':'2026-12-05T10:15:30.25+01:00',"
                                        + "'session':{'title':'Support','metadata':{'team':'a'},'collection':'memory'}}"),
                        e("s1", "{" + TURN + ",'metadata':null,'created_at':null,'session':null}"),
                        e("s1", "{" + TURN + ",'created_at':'2026-12-05T10:15Z','session':{'title':null}}")),
                List.of(
                        e("s1", "{'session_id':'s1','message_id':'m1','role':'user'}"),
                        e("s1", "{'session_id':'s1','message_id':'m1','content':'hi'}"),
                        e("s1", "{'session_id':'s1','message_id':'m1','role':'robot','content':'hi'}"),
                        e("s1", "{'session_id':'s1','message_id':'','role':'user','content':'hi'}"),
                        e("", "{'session_id':'','message_id':'m1','role':'user','content':'hi'}"),
                        e("s1", "{'session_id':'s1','message_id':'m1','role':'user','content':7}"),
                        e("s1", "{" + TURN + ",'metadata':[1]}"),
                        e("s1", "{" + TURN + ",'created_at':'yesterday'}"),
                        e("s1", "{" + TURN + ",'created_at':'2026-12-05T10:15:30'}"),
                        e("s1", "{" + TURN + ",'session':{'name':'x'}}"),
                        e("s1", "{" + TURN + ",'session':'x'}"),
                        e("s1", "{" + TURN + ",'session':{'collection':'Memory'}}"),
                        e("a/b", "{'session_id':'a/b','message_id':'m1','role':'user','content':'hi'}"),
                        e("s1", "{'session_id':'s1','message_id':'m\\t1','role':'user','content':'hi'}"),
                        e("s1", "{'session_id':'s1','message_id':'m1','role':'user','content':'a\\u0000b'}"),
                        e("s1", "{" + TURN + ",'created_at':'2026-12-05t10:15:30z'}"),
                        e("s1", "{" + TURN + ",'created_at':'2026-12-05T10:15:30+0100'}"),
                        e("s1", "{" + TURN + ",'schema_version':2}"),
                        e("s1", "{" + TURN + ",'colour':'blue'}"),
                        e("s1", "[1]")));
    }

    private static Examples documents() {
        return new Examples(
                List.of(
                        e("default/a", "{'op':'upsert','id':'a','content':'hello'}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'op':'upsert','collection':'docs','id':'a','title':'T',"
                                        + "'content':'hi','source':'s','metadata':{'lang':'en','n':[1]},'version':3}"),
                        e("default/a", "{'op':'delete','id':'a'}"),
                        e("default/a", "{'op':'delete','id':'a','collection':null,'title':null,'metadata':null}"),
                        e("default/a", "{'op':'delete','id':'a','version':0}")),
                List.of(
                        e("default/a", "{'op':'upsert','id':'a'}"),
                        e("default/a", "{'op':'upsert','id':'a','content':null}"),
                        e("default/a", "{'op':'merge','id':'a'}"),
                        e("default/a", "{'id':'a'}"),
                        e("default/", "{'op':'delete','id':''}"),
                        e("A/a", "{'op':'delete','id':'a','collection':'A'}"),
                        e("default/a", "{'op':'delete','id':'a','version':-1}"),
                        e("default/a", "{'op':'delete','id':'a','version':1.5}"),
                        e("default/a", "{'op':'delete','id':'a','metadata':[1]}"),
                        e("default/a", "{'op':'delete','id':'a','title':7}"),
                        e("default/a", "{'op':'delete','id':'a','schema_version':2}"),
                        e("default/a", "{'op':'delete','id':'a','colour':'blue'}"),
                        e("default/a", "[1]")));
    }

    private static Examples embeddingRequests() {
        return new Examples(
                List.of(e("docs/a", "{'schema_version':1,'collection':'docs','id':'a','document':12,'version':3}")),
                List.of(
                        e("docs/a", "{'collection':'docs','id':'a','document':12,'version':3}"),
                        e("docs/a", "{'schema_version':1,'collection':'docs','id':'a','version':3}"),
                        e("docs/a", "{'schema_version':1,'collection':'docs','id':'a','document':'12','version':3}"),
                        e("docs/a", "{'schema_version':1,'collection':'docs','id':'a','document':12,'version':null}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'collection':'docs','id':'a','document':12,'version':3,'x':1}"),
                        e("docs/a", "{'schema_version':2,'collection':'docs','id':'a','document':12,'version':3}")));
    }

    private static final String BUILTIN = "'request_id':'r1','project':'sections','task':'classification',"
            + "'backend':'builtin','data':{'collection':'packages','label_path':'meta.section'}";
    private static final String PGML = "'request_id':'r2','project':'Price model','task':'regression',"
            + "'backend':'pgml','data':{'relation':'public.houses','label_column':'price'}";

    private static Examples training() {
        return new Examples(
                List.of(
                        e("sections", "{" + BUILTIN + "}"),
                        e(
                                "sections",
                                "{'schema_version':1," + BUILTIN + ",'algorithm':'softmax_regression',"
                                        + "'hyperparameters':{'epochs':5,'learning_rate':0.5},'test_size':0.2,"
                                        + "'test_sampling':'random','deploy':'never'}"),
                        e(
                                "Price model",
                                "{" + PGML + ",'algorithm':'xgboost','hyperparameters':{'n_estimators':10},"
                                        + "'test_sampling':'last','deploy':'always',"
                                        + "'search':{'search':'grid','search_params':{'max_depth':[1,2]}}}"),
                        e(
                                "Price model",
                                "{'request_id':'r3','project':'Price model','task':'summarization','backend':'pgml',"
                                        + "'data':{'relation':'docs','label_column':'summary'},'model_name':'t5-small'}")),
                List.of(
                        e("sections", "{'project':'sections','task':'classification','backend':'builtin'}"),
                        e("sections", "{" + BUILTIN.replace("'classification'", "'regression'") + "}"),
                        e("sections", "{" + BUILTIN + ",'test_size':1}"),
                        e("sections", "{" + BUILTIN + ",'deploy':'sometimes'}"),
                        e("sections", "{" + BUILTIN + ",'colour':'blue'}"),
                        e("sections", "{" + BUILTIN.replace("'packages'", "'Packages'") + "}"),
                        e("Price model", "{" + PGML.replace("'price'}", "'price','label_path':'x'}") + "}"),
                        e("Price model", "{" + PGML + ",'search':{'search_params':{}}}"),
                        e("-x", "{" + BUILTIN.replace("'sections'", "'-x'") + "}"),
                        e("sections", "{" + BUILTIN + ",'test_sampling':'first'}"),
                        e("sections", "{" + BUILTIN + ",'model_name':'bert'}"),
                        e("sections", "{" + BUILTIN + ",'algorithm':'xgboost'}"),
                        e("sections", "{" + BUILTIN + ",'hyperparameters':{'momentum':0.9}}"),
                        e("sections", "{" + BUILTIN + ",'hyperparameters':{'epochs':0}}"),
                        e("Price model", "{" + PGML.replace("'regression'", "'summarization'") + "}"),
                        e("Price model", "{" + PGML + ",'model_name':'t5','search':{'search':'grid'}}")));
    }

    private static final String EVENT = "'schema_version':1,'id':5,'source':'github','delivery_id':'d-1',"
            + "'event_type':'issues','priority':0,'payload':{'a':1},'headers':{'x-github-event':'issues'},"
            + "'created_at':'2026-01-01T00:00:00.123456+00:00'";

    private static Examples claudeEvents() {
        return new Examples(
                List.of(
                        e("github/d-1", "{" + EVENT + ",'replay':2}"),
                        e("github/d-1", "{" + EVENT + "}"),
                        e("github/d-1", "{'source':'github','delivery_id':'d-1','event_type':'x','payload':null}"),
                        e(
                                "github/d-1",
                                "{'source':'github','delivery_id':'d-1','event_type':'x','payload':[1,'a'],"
                                        + "'id':null,'replay':null,'created_at':null,'priority':null}")),
                List.of(
                        e("github/d-1", "{" + EVENT.replace("'event_type':'issues',", "") + "}"),
                        e("github/d-1", "{" + EVENT.replace("'payload':{'a':1},", "") + "}"),
                        e("github/d-1", "{" + EVENT.replace("'id':5", "'id':'five'") + "}"),
                        e("github/d-1", "{" + EVENT + ",'replay':-1}"),
                        e("github/d-1", "{" + EVENT.replace("'schema_version':1", "'schema_version':2") + "}"),
                        e("github/d-1", "{" + EVENT.replace("'priority':0", "'priority':40000") + "}"),
                        e(
                                "github/d-1",
                                "{" + EVENT.replace("'headers':{'x-github-event':'issues'}", "'headers':[]") + "}"),
                        e("github/d-1", "{" + EVENT + ",'colour':'blue'}"),
                        e("GitHub/d-1", "{" + EVENT.replace("'github'", "'GitHub'") + "}"),
                        e("github/d-1", "{" + EVENT.replace("'source':'github',", "") + "}")));
    }

    private static final String TRAINING_EVENT =
            "'project':'p','job':4,'request_id':'r','backend':'builtin','task':'classification'";

    private static final String MIGRATED = "'collection':'docs','generation':2,'model':'bge-small-en-v1.5',"
            + "'dimensions':384,'from_generation':1,'from_model':'all-MiniLM-L6-v2','reason':'switch'";

    private static Examples pipelineEvents() {
        return new Examples(
                List.of(
                        e(
                                "docs/a",
                                "{'schema_version':1,'type':'document.embedded','collection':'docs','id':'a',"
                                        + "'version':3,'chunks':2,'model':'all-MiniLM-L6-v2'}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'type':'document.failed','collection':'docs','id':'a',"
                                        + "'version':3,'chunks':2,'error':'too long'}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'type':'document.deleted','collection':'docs','id':'a','version':4}"),
                        e(
                                "p",
                                "{'schema_version':1,'type':'training.succeeded'," + TRAINING_EVENT
                                        + ",'algorithm':'softmax_regression','attempts':1,'model':9,'deployed':true,"
                                        + "'deploy_reason':'first model','metrics':{'accuracy':0.9}}"),
                        e(
                                "p",
                                "{'schema_version':1,'type':'training.failed'," + TRAINING_EVENT
                                        + ",'algorithm':null,'attempts':2,'error':'no data'}"),
                        e("p", "{'schema_version':1,'type':'training.cancelled'," + TRAINING_EVENT + "}"),
                        e("docs", "{'schema_version':1,'type':'collection.migrated'," + MIGRATED + "}"),
                        e(
                                "docs",
                                "{'schema_version':1,'type':'collection.migrated',"
                                        + MIGRATED.replace("'switch'", "'rollback'") + "}")),
                List.of(
                        e("docs/a", "{'type':'document.deleted','collection':'docs','id':'a','version':4}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'type':'document.moved','collection':'docs','id':'a','version':4}"),
                        e("docs/a", "{'schema_version':1,'type':'document.deleted','collection':'docs','id':'a'}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'type':'document.deleted','collection':'docs','id':'a',"
                                        + "'version':4,'project':'p'}"),
                        e(
                                "docs/a",
                                "{'schema_version':1,'type':'document.embedded','collection':'docs','id':'a',"
                                        + "'version':4,'chunks':-1}"),
                        e("p", "{'schema_version':1,'type':'training.failed','project':'p','job':4}"),
                        e(
                                "p",
                                "{'schema_version':1,'type':'training.failed',"
                                        + TRAINING_EVENT.replace("'builtin'", "'sklearn'") + "}"),
                        e(
                                "p",
                                "{'schema_version':1,'type':'training.succeeded'," + TRAINING_EVENT
                                        + ",'deployed':'yes'}"),
                        e("p", "{'schema_version':1,'type':'training.succeeded'," + TRAINING_EVENT + ",'model':'m'}"),
                        e("p", "{'schema_version':1,'type':'training.succeeded'," + TRAINING_EVENT + ",'chunks':3}"),
                        e(
                                "docs",
                                "{'schema_version':1,'type':'collection.migrated','collection':'docs','generation':2}"),
                        e(
                                "docs",
                                "{'schema_version':1,'type':'collection.migrated',"
                                        + MIGRATED.replace("'switch'", "'undo'") + "}"),
                        e(
                                "docs",
                                "{'schema_version':1,'type':'collection.migrated',"
                                        + MIGRATED.replace("'generation':2", "'generation':0") + "}"),
                        e("docs", "{'schema_version':1,'type':'collection.migrated'," + MIGRATED + ",'id':'a'}")));
    }
}
